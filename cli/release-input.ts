import type { z } from 'zod';
import { releaseInputSchema } from '#commons/release.ts';
import { sourceExecutionName } from '#functions/start-release/start-release.ts';
import { describeIssues } from '#functions/validate-input/validate-input.ts';
import { UsageError } from './errors.ts';

/**
 * A validated release input: exactly what the ValidateInput step accepts (the schema is
 * shared from functions/commons/release.ts), so bad input is refused here, before anything
 * is started, with the same messages the state machine would give.
 */
export type ReleaseInput = z.infer<typeof releaseInputSchema>;

/** The `release` command's source flags. */
export interface SourceFlags {
  readonly commit?: string;
  readonly branch?: string;
  readonly s3?: string;
  readonly versionId?: string;
  readonly image?: string;
}

/** Which kind of source the flags ask for; refuses zero or several. */
export function sourceKind(flags: SourceFlags): 'codecommit' | 's3' | 'image' {
  const kinds = [
    flags.commit !== undefined ? 'codecommit' : undefined,
    flags.s3 !== undefined ? 's3' : undefined,
    flags.image !== undefined ? 'image' : undefined,
  ].filter((kind) => kind !== undefined);
  if (kinds.length !== 1) {
    throw new UsageError(
      kinds.length === 0
        ? 'Say what to release: --commit <id>, --s3 <s3://bucket/key> or --image <uri@sha256:…>.'
        : `Give only one source; got ${kinds.map((kind) => `--${kind === 'codecommit' ? 'commit' : kind}`).join(' and ')}.`,
      'See `stepdeploy release --help` for examples.',
    );
  }
  return kinds[0] as 'codecommit' | 's3' | 'image';
}

/**
 * The object key of `--s3`, given as a key (`releases/site.zip`) or as `s3://bucket/key`;
 * the bucket, when given, is returned so the caller can check it is the stack's.
 */
export function parseS3Flag(value: string): { bucket?: string; key: string } {
  if (!value.startsWith('s3://')) return { key: value.replace(/^\/+/, '') };
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(value);
  if (!match?.[1] || !match[2]) {
    throw new UsageError(
      `--s3 must look like releases/site.zip or s3://bucket/releases/site.zip; got "${value}".`,
    );
  }
  return { bucket: match[1], key: match[2] };
}

/**
 * Validates an input against the release schema and returns it typed, or throws a
 * UsageError that names each offending field. Pure: no AWS call happens here.
 */
export function validateReleaseInput(input: unknown): ReleaseInput {
  const parsed = releaseInputSchema.safeParse(input);
  if (!parsed.success) {
    throw new UsageError(
      `The release input is not valid: ${describeIssues(parsed.error.issues)}.`,
      'Nothing was started. Fix the flags and run the command again.',
    );
  }
  return parsed.data;
}

/**
 * A readable, unique execution name for a manual start (≤ 80 characters of [A-Za-z0-9-_]).
 * The time comes first because ValidateInput derives the release id (and the snapshot id)
 * from the first 60 characters of the name.
 * Triggers use deterministic names instead (see functions/start-release), so automatic
 * starts are idempotent while a person can deliberately release the same commit again.
 */
export function manualExecutionName(
  input: ReleaseInput,
  now: Date,
  kindPrefix: 'manual' | 'rollback' | 'again' = 'manual',
): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  const source = input.source;
  const what =
    source.type === 'codecommit'
      ? `commit-${source.commitId.slice(0, 12)}`
      : source.type === 's3'
        ? `s3-${(source.key.split('/').pop() ?? 'object').replace(/\.zip$/, '').slice(0, 20)}`
        : `image-${source.imageUri.split('@sha256:')[1]?.slice(0, 12) ?? 'digest'}`;
  return `${kindPrefix}-${stamp}-${what}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 80);
}

/**
 * The execution name of `stepdeploy release`. A commit or an object version gets the name its
 * trigger would give it (functions/start-release), so releasing what a push already released
 * is refused with a message instead of running twice; `again` asks for a new release of it:
 * a unique `again-<UTC time>-…` name, hence a new release id, snapshot and nested
 * verification. An image is a deliberate redeploy: always a unique `manual-…` name. Pure.
 */
export function releaseExecutionName(
  input: ReleaseInput,
  options: { readonly again: boolean; readonly bucket: string | undefined; readonly now: Date },
): string {
  const source = input.source;
  if (source.type === 'image') {
    if (options.again) {
      throw new UsageError(
        '--again is for --commit and --s3: an --image release always starts anew.',
        'Drop --again.',
      );
    }
    return manualExecutionName(input, options.now);
  }
  if (options.again) return manualExecutionName(input, options.now, 'again');
  if (source.type === 'codecommit') {
    return sourceExecutionName({ type: 'codecommit', commitId: source.commitId });
  }
  // Without the bucket the trigger's name cannot be derived: a unique name, as before.
  if (options.bucket === undefined) return manualExecutionName(input, options.now);
  return sourceExecutionName({
    type: 's3',
    bucket: options.bucket,
    key: source.key,
    versionId: source.versionId,
  });
}

/** The refusal of a release whose source already has one (ExecutionAlreadyExists). Pure. */
export function alreadyReleasedError(input: ReleaseInput, name: string): UsageError {
  const what =
    input.source.type === 'codecommit'
      ? `Commit ${input.source.commitId}`
      : input.source.type === 's3'
        ? `${input.source.key} version ${input.source.versionId}`
        : 'This image';
  return new UsageError(
    `${what} already has a release: execution ${name} (execution names are kept for 90 days). Nothing was started.`,
    `See it with \`stepdeploy status ${name}\`; to release it anew, run the same command with --again.`,
  );
}
