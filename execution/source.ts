/** The release input fields the displays read; loose on purpose (older inputs still render). */
interface InputLike {
  readonly source?: Record<string, unknown>;
  readonly startedBy?: unknown;
  readonly trigger?: unknown;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * What a release input releases, in a few words: `commit 1a2b3c4d5e6f on main`,
 * `releases/app.zip (version 3sL4kqtJlcpX)`, `image …/wordpress@sha256:ab12…`.
 */
export function describeSource(input: unknown): string {
  const source = (input as InputLike | undefined)?.source;
  if (!source) return 'unknown source';
  switch (source.type) {
    case 'codecommit':
      return `commit ${text(source.commitId)?.slice(0, 12) ?? '?'}${text(source.branch) ? ` on ${text(source.branch)}` : ''}`;
    case 's3':
      return `${text(source.key) ?? '?'} (version ${text(source.versionId)?.slice(0, 12) ?? '?'})`;
    case 'image': {
      const uri = text(source.imageUri) ?? '?';
      const at = uri.indexOf('@sha256:');
      return `image ${at >= 0 ? `${uri.slice(0, at)}@${uri.slice(at + 1, at + 20)}` : uri}`;
    }
    default:
      return `${String(source.type)} source`;
  }
}

/** Who or what started a release: the input's `startedBy`, with the trigger if known. */
export function describeStarter(input: unknown): string {
  const value = input as InputLike | undefined;
  const by = text(value?.startedBy) ?? 'unknown';
  const trigger = text(value?.trigger);
  return trigger ? `${by} (${trigger})` : by;
}
