import { execFile, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { type BuildPhaseEvent, BuildPhaseTracker, dockerPhaseOfLine } from './build-phases.ts';
import { filesUnder, hashFiles } from './content-hash.ts';

/** The labels every container and volume of ours carries (docs/contracts.md "Local mode"). */
export const LABEL_MANAGED = 'stepdeploy.managed';
export const LABEL_SERVICE = 'stepdeploy.service';
export const LABEL_REVISION = 'stepdeploy.revision';
export const LABEL_RELEASE = 'stepdeploy.release';
export const LABEL_ROLE = 'stepdeploy.role';

/** The labels that say which service a container or volume belongs to, and in which role. */
export function roleLabels(service: string, role: string): Record<string, string> {
  return { [LABEL_SERVICE]: service, [LABEL_ROLE]: role };
}

/** A docker command failed: names the command (never its environment) and the stderr tail. */
export class DockerError extends Error {
  readonly args: readonly string[];
  readonly exitCode: number | null;
  readonly stderr: string;
  constructor(args: readonly string[], exitCode: number | null, stderr: string, cause?: unknown) {
    const tail = stderr.trim().split('\n').slice(-8).join('\n');
    super(`docker ${describeArgs(args)} failed (exit ${exitCode ?? 'signal'}): ${tail}`, {
      cause,
    });
    this.name = 'DockerError';
    this.args = args;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

// Values of -e/--env are dropped from messages: they may be secrets in callers we do not know.
function describeArgs(args: readonly string[]): string {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    out.push(a);
    if ((a === '-e' || a === '--env') && i + 1 < args.length) {
      const v = args[++i] ?? '';
      out.push(`${v.split('=')[0]}=…`);
    }
  }
  return out.join(' ');
}

/** Options for {@link docker}. */
export interface DockerOptions {
  /** Text written to the command's stdin. */
  readonly input?: string;
  /** Milliseconds before the command is killed. */
  readonly timeoutMs?: number;
  /** Receives each line of stdout and stderr as it arrives (the result still holds stdout). */
  readonly onLine?: (line: string) => void;
}

/** Calls `onLine` with each whole line of a stream's chunks, and the unterminated rest at its end. */
function linesOf(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  let pending = '';
  stream?.on('data', (chunk: Buffer | string) => {
    const lines = (pending + chunk.toString()).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine(line.replace(/\r$/, ''));
  });
  stream?.on('end', () => {
    if (pending) onLine(pending);
  });
}

/** Runs `docker <args>` without a shell and returns stdout; throws DockerError on failure. */
export function docker(args: readonly string[], opts: DockerOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'docker',
      args as string[],
      { maxBuffer: 256 * 1024 * 1024, timeout: opts.timeoutMs ?? 0, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) {
          const code = typeof err.code === 'number' ? err.code : null;
          const detail =
            stderr || (err.code === 'ENOENT' ? 'docker is not installed' : err.message);
          reject(new DockerError(args, code, detail, err));
          return;
        }
        resolve(stdout);
      },
    );
    if (opts.onLine) {
      linesOf(child.stdout, opts.onLine);
      linesOf(child.stderr, opts.onLine);
    }
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs `docker <args>` streaming stdout into a file (for dumps that may be large). */
export function dockerToFile(args: readonly string[], path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(path, { mode: 0o600 });
    const child = spawn('docker', args as string[], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-8192);
    });
    child.stdout.pipe(out);
    child.on('error', (err) => reject(new DockerError(args, null, String(err), err)));
    child.on('close', (code) => {
      out.close((closeErr) => {
        if (code !== 0) reject(new DockerError(args, code, stderr));
        else if (closeErr) reject(closeErr);
        else resolve();
      });
    });
  });
}

/** Whether a DockerError says the object does not exist. */
export function isNotFound(err: unknown): boolean {
  return err instanceof DockerError && /no such (container|object|volume|image)/i.test(err.stderr);
}

/** The part of `docker inspect` (container) we read. */
export interface ContainerInspect {
  readonly Id: string;
  readonly Name: string;
  readonly Created: string;
  readonly State: {
    readonly Status: string;
    readonly Running: boolean;
    readonly ExitCode: number;
    readonly Error: string;
    readonly OOMKilled: boolean;
    readonly StartedAt: string;
    readonly FinishedAt: string;
    readonly Health?: { readonly Status: string };
  };
  readonly Config: {
    readonly Image: string;
    readonly Labels: Record<string, string> | null;
    readonly Env: string[] | null;
  };
  readonly HostConfig?: { readonly CpuShares?: number };
  readonly Image: string;
}

/** `docker inspect` of containers; unknown ids are skipped rather than failing the batch. */
export async function inspectContainers(ids: readonly string[]): Promise<ContainerInspect[]> {
  if (ids.length === 0) return [];
  try {
    return JSON.parse(await docker(['container', 'inspect', ...ids])) as ContainerInspect[];
  } catch (err) {
    if (!isNotFound(err)) throw err;
    const found: ContainerInspect[] = [];
    for (const id of ids) {
      const one = await inspectContainer(id);
      if (one) found.push(one);
    }
    return found;
  }
}

/** `docker inspect` of one container, or undefined when it does not exist. */
export async function inspectContainer(id: string): Promise<ContainerInspect | undefined> {
  try {
    const [c] = JSON.parse(await docker(['container', 'inspect', id])) as ContainerInspect[];
    return c;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Label filters as `key=value` (or bare `key`) strings. */
export type LabelFilter = Record<string, string | true>;

function labelArgs(labels: LabelFilter): string[] {
  return Object.entries(labels).flatMap(([k, v]) => [
    '--filter',
    `label=${v === true ? k : `${k}=${v}`}`,
  ]);
}

/** Ids of containers (running or not) carrying all the given labels. */
export async function containersByLabel(labels: LabelFilter): Promise<string[]> {
  const out = await docker(['ps', '-a', '-q', '--no-trunc', ...labelArgs(labels)]);
  return out.split('\n').filter(Boolean);
}

/** Names of volumes carrying all the given labels. */
export async function volumesByLabel(labels: LabelFilter): Promise<string[]> {
  const out = await docker(['volume', 'ls', '-q', ...labelArgs(labels)]);
  return out.split('\n').filter(Boolean);
}

/** Names of networks carrying all the given labels. */
export async function networksByLabel(labels: LabelFilter): Promise<string[]> {
  const out = await docker(['network', 'ls', '-q', ...labelArgs(labels)]);
  return out.split('\n').filter(Boolean);
}

/** Removes a container (force); absent containers are fine. */
export async function removeContainer(id: string): Promise<void> {
  try {
    await docker(['rm', '-f', '-v', id]);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** Removes a volume; absent volumes are fine. */
export async function removeVolume(name: string): Promise<void> {
  try {
    await docker(['volume', 'rm', '-f', name]);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/**
 * Creates a labelled volume if it does not exist yet; true when this call created it. Like
 * runContainer, it marks the volume as local mode's (LABEL_MANAGED).
 */
export async function ensureVolume(name: string, labels: Record<string, string>): Promise<boolean> {
  const existing = await docker(['volume', 'ls', '-q', '--filter', `name=^${name}$`]);
  if (existing.split('\n').includes(name)) return false;
  await docker([
    'volume',
    'create',
    ...Object.entries({ [LABEL_MANAGED]: 'true', ...labels }).flatMap(([k, v]) => [
      '--label',
      `${k}=${v}`,
    ]),
    name,
  ]);
  return true;
}

/** The last lines of a container's logs (stdout and stderr together). */
export async function containerLogs(id: string, tail = 50): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'docker',
      ['logs', '--tail', String(tail), id],
      { maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new DockerError(['logs', id], null, stderr, err));
        else resolve(`${stdout}${stderr}`);
      },
    );
  });
}

/** Runs a command inside a running container; returns stdout. */
export function exec(
  id: string,
  command: readonly string[],
  opts: DockerOptions & { readonly user?: string } = {},
): Promise<string> {
  const args = ['exec', ...(opts.input !== undefined ? ['-i'] : [])];
  if (opts.user) args.push('--user', opts.user);
  return docker([...args, id, ...command], opts);
}

/** Spec for {@link runContainer}: always host networking, always labelled as ours. */
export interface RunSpec {
  readonly name: string;
  readonly image: string;
  readonly labels: Record<string, string>;
  readonly env?: Record<string, string>;
  /** `host:container[:ro]` bind mounts or `volume:container[:ro]`. */
  readonly mounts?: readonly string[];
  readonly tmpfs?: readonly string[];
  readonly readOnly?: boolean;
  readonly user?: string;
  readonly restart?: 'no' | 'unless-stopped' | 'on-failure';
  readonly command?: readonly string[];
  readonly entrypoint?: string;
  readonly stopTimeoutSeconds?: number;
}

/** Starts a detached container on the host network and returns its id. */
export async function runContainer(spec: RunSpec): Promise<string> {
  const args = ['run', '-d', '--name', spec.name, '--network', 'host'];
  args.push('--label', `${LABEL_MANAGED}=true`);
  for (const [k, v] of Object.entries(spec.labels)) args.push('--label', `${k}=${v}`);
  for (const [k, v] of Object.entries(spec.env ?? {})) args.push('--env', `${k}=${v}`);
  for (const m of spec.mounts ?? []) args.push('-v', m);
  for (const t of spec.tmpfs ?? []) args.push('--tmpfs', t);
  if (spec.readOnly) args.push('--read-only');
  if (spec.user) args.push('--user', spec.user);
  if (spec.restart) args.push('--restart', spec.restart);
  if (spec.entrypoint) args.push('--entrypoint', spec.entrypoint);
  if (spec.stopTimeoutSeconds !== undefined)
    args.push('--stop-timeout', String(spec.stopTimeoutSeconds));
  args.push(spec.image, ...(spec.command ?? []));
  return (await docker(args)).trim();
}

/** The part of `docker image inspect` the task runner reads. */
export interface ImageInspect {
  readonly Id: string;
  readonly Architecture: string;
  readonly Os: string;
  readonly Config: {
    readonly User?: string;
    readonly Volumes?: Record<string, unknown> | null;
  };
}

/** `docker image inspect` of one image, or undefined when it is not in the local cache. */
export async function inspectImage(ref: string): Promise<ImageInspect | undefined> {
  try {
    const [image] = JSON.parse(await docker(['image', 'inspect', ref])) as ImageInspect[];
    return image;
  } catch (err) {
    if (err instanceof DockerError && /no such (image|object)/i.test(err.stderr)) return undefined;
    throw err;
  }
}

/**
 * The ID of a local image (`docker image inspect`), or undefined when the engine has none by
 * that reference (or cannot be asked): the one "does this image exist" check of local mode.
 */
export async function imageId(ref: string): Promise<string | undefined> {
  try {
    return (await docker(['image', 'inspect', '--format', '{{.Id}}', ref])).trim() || undefined;
  } catch (err) {
    if (err instanceof DockerError) return undefined;
    throw err;
  }
}

/** Whether an image reference exists locally. */
export async function imageExists(ref: string): Promise<boolean> {
  return (await imageId(ref)) !== undefined;
}

/** A content hash of a build context (file names, modes and bytes), for cache-by-content tags. */
export async function hashDirectory(dir: string): Promise<string> {
  return (await hashFiles(dir, await filesUnder(dir))).slice(0, 12);
}

/**
 * Builds `stepdeploy/<name>:<content hash>` from `dir` unless that tag exists, so an unchanged
 * Dockerfile directory never rebuilds and any change does. Returns the image reference. With
 * `onPhase`, each Dockerfile step of a build is a phase (stage `<name>`).
 */
export async function buildImageOnce(
  name: string,
  dir: string,
  onPhase?: (event: BuildPhaseEvent) => void,
): Promise<string> {
  const ref = `stepdeploy/${name}:${await hashDirectory(dir)}`;
  if (await imageExists(ref)) return ref;
  const args = ['build', '--label', `${LABEL_MANAGED}=true`, '-t', ref];
  if (!onPhase) await docker([...args, '-q', dir]);
  else
    await new BuildPhaseTracker(onPhase, Date.now, dockerPhaseOfLine(name)).around((onLine) =>
      docker([...args, dir], { onLine }),
    );
  return ref;
}
