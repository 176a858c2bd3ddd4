import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildPhaseEvent, BuildPhaseTracker } from './build-phases.ts';
import { filesUnder, hashFiles } from './content-hash.ts';
import { imageId } from './docker.ts';
import { withFileLock } from './lock.ts';
import { DEFAULT_SITE_DIR, readSiteSource, SiteSourceError } from './site-source.ts';

/** The repository root (this file lives in <root>/local/). */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PACKER_DIR = join(ROOT, 'packer');
const ANSIBLE_DIR = join(ROOT, 'ansible');
const BASE_STAGE_REPOSITORY = 'stepdeploy/wordpress-base';
/** Local-only cache of finished app stages, keyed by everything that shapes them. */
const APP_STAGE_REPOSITORY = 'stepdeploy/wordpress-app';
const DEFAULT_BASE_IMAGE = 'stepdeploy/base:trixie';
const LOG_TAIL = 40;
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const REPOSITORY_RE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;
const REGISTRY_RE = /^[A-Za-z0-9.-]+(?::\d{1,5})?$/;
const EXTRA_VAR_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** What to build and where to push it. */
export interface ImageBuildRequest {
  /** Source revision, written to the org.opencontainers.image.revision label. */
  sourceRevision: string;
  /** Registry host[:port], e.g. '127.0.0.1:5000'. */
  registry: string;
  /** Repository inside the registry, e.g. 'stepdeploy/wordpress'. */
  repository: string;
  /** Tag to push; default `<revision>-<app stage key>`. */
  tag?: string;
  /** Further Ansible extra vars for the app stage (e.g. wordpress_fault_healthz_status). */
  extraVars?: Record<string, string>;
  /** Image the base stage starts from (default stepdeploy/base:trixie). */
  baseImage?: string;
  /** The site's own code built into the app stage (default: the repository's site/). */
  siteDir?: string;
  /** Receives every log line of Packer and Docker as it arrives. */
  onLog?: (line: string) => void;
  /** Receives each phase (Packer step, Ansible task) as it starts and ends (local/build-phases.ts). */
  onPhase?: (event: BuildPhaseEvent) => void;
}

/** The pushed image and how the build went. */
export interface ImageBuildResult {
  /** registry/repository@sha256:... */
  imageUri: string;
  imageDigest: string;
  tag: string;
  /** True when the base stage image for the current inputs already existed. */
  baseReused: boolean;
  /** True when an identical app stage existed and was only re-tagged and pushed. */
  appStageSkipped?: boolean;
  /** Content hash of the site source built in (local/site-source.ts). */
  siteHash: string;
  durationsMs: { base: number; app: number; push: number };
}

/** The phase of an image build that failed. */
export type ImageBuildPhase = 'input' | 'base-image' | 'base' | 'app' | 'push' | 'inspect';

/** An image build failed; `phase` says where and `logTail` holds the last log lines. */
export class ImageBuildError extends Error {
  readonly phase: ImageBuildPhase;
  readonly logTail: string[];
  constructor(phase: ImageBuildPhase, message: string, logTail: string[] = [], cause?: unknown) {
    const tail = logTail.length > 0 ? `\n--- last log lines ---\n${logTail.join('\n')}` : '';
    super(`image build failed in phase ${phase}: ${message}${tail}`, { cause });
    this.name = 'ImageBuildError';
    this.phase = phase;
    this.logTail = logTail;
  }
}

interface RunResult {
  stdout: string;
  tail: string[];
}

/**
 * Local builds share the machine with the tasks serving the site (CodeBuild never does): the
 * build container gets the lowest CPU weight docker allows and Packer and Ansible the lowest
 * priority, so a build takes only the CPU the site leaves idle. On an idle machine neither
 * slows the build. (bench/image-build.ts gives its Dockerfile yardstick the same two.)
 */
export const LOCAL_BUILD_CPU_SHARES = 2;
export const LOCAL_BUILD_NICE = 19;

/**
 * Runs a program without a shell, streaming its lines; rejects with the tail on failure.
 * `lowPriority` runs it (and everything it starts) under `nice`.
 */
function run(
  phase: ImageBuildPhase,
  file: string,
  args: readonly string[],
  onLog?: (line: string) => void,
  lowPriority = false,
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const [program, programArgs] = lowPriority
      ? ['nice', ['-n', String(LOCAL_BUILD_NICE), file, ...args]]
      : [file, args];
    const child = spawn(program, programArgs, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Packer would otherwise phone home for update checks, which this network refuses.
      env: { ...process.env, CHECKPOINT_DISABLE: '1', PACKER_NO_COLOR: '1' },
    });
    const tail: string[] = [];
    let stdout = '';
    const pending = { stdout: '', stderr: '' };
    const feed = (stream: 'stdout' | 'stderr', chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (stream === 'stdout') stdout += text;
      const lines = (pending[stream] + text).split('\n');
      pending[stream] = lines.pop() ?? '';
      for (const line of lines) emit(line);
    };
    const emit = (line: string) => {
      const clean = line.replace(/\r$/, '');
      tail.push(clean);
      if (tail.length > LOG_TAIL) tail.shift();
      onLog?.(clean);
    };
    child.stdout.on('data', (c: Buffer) => feed('stdout', c));
    child.stderr.on('data', (c: Buffer) => feed('stderr', c));
    child.on('error', (err) =>
      reject(new ImageBuildError(phase, `cannot run ${file}: ${err.message}`, tail, err)),
    );
    child.on('close', (code, signal) => {
      for (const rest of [pending.stdout, pending.stderr]) if (rest) emit(rest);
      if (code === 0) resolvePromise({ stdout, tail });
      else if (lowPriority && code === 127)
        reject(new ImageBuildError(phase, `cannot run ${file}: not found on PATH`, tail));
      else {
        const reason = ansibleFailure(tail);
        reject(
          new ImageBuildError(
            phase,
            `${file} ${args[0] ?? ''} exited with ${signal ?? `status ${code}`}${reason ? `: ${reason}` : ''}`,
            tail,
          ),
        );
      }
    });
  });
}

/**
 * The message of the last Ansible task that failed, from a build's log lines (Packer prefixes
 * them with the builder name): `fatal: [default]: FAILED! => {"msg": "..."}`. Pure.
 */
export function ansibleFailure(lines: readonly string[]): string | undefined {
  const reasonOf = (json: string): string => {
    try {
      const result = JSON.parse(json) as { msg?: unknown; stderr?: unknown };
      const text = [result.stderr, result.msg].find((v) => typeof v === 'string' && v.trim());
      return typeof text === 'string' ? text.trim() : json;
    } catch {
      return json;
    }
  };
  // A looped task prints one `failed: [host] (item=…) => {…}` line per failed item.
  const itemReasons: string[] = [];
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] ?? '';
    const fatal = /fatal: \[[^\]]*\]: FAILED! => (\{.*\})\s*$/.exec(line);
    if (fatal?.[1]) return reasonOf(fatal[1]);
    const item = /failed: \[[^\]]*\] \(item=.*?\) => (\{.*\})\s*$/.exec(line);
    if (item?.[1]) itemReasons.unshift(reasonOf(item[1]));
    else if (itemReasons.length > 0 && /TASK \[/.test(line)) break;
  }
  return itemReasons.length > 0 ? itemReasons.join('; ') : undefined;
}

/** Key of the app stage: the base stage it sits on and every input of the app tasks. */
async function appStageKey(
  baseStageId: string,
  sourceRevision: string,
  extraVars: Record<string, string>,
  siteHash: string,
): Promise<string> {
  const seed = `base ${baseStageId}\nrevision ${sourceRevision}\nsite ${siteHash}\nvars ${JSON.stringify(Object.entries(extraVars).sort())}\n`;
  const files = [
    // Tool caches (.cache/, __pycache__) are not inputs.
    ...(await filesUnder(ANSIBLE_DIR, /(^|\/)(\.cache|__pycache__)(\/|$)/)),
    join(PACKER_DIR, 'wordpress.pkr.hcl'),
    join(PACKER_DIR, 'variables.pkr.hcl'),
  ];
  return (await hashFiles(ROOT, files, seed)).slice(0, 16);
}

function validate(req: ImageBuildRequest): void {
  const problems: string[] = [];
  if (!req.sourceRevision?.trim()) problems.push('sourceRevision is empty');
  if (/[\s"\\]/.test(req.sourceRevision ?? ''))
    problems.push('sourceRevision may not hold spaces, quotes or backslashes');
  if (!REGISTRY_RE.test(req.registry ?? ''))
    problems.push(`registry '${req.registry}' is not host[:port]`);
  if (!REPOSITORY_RE.test(req.repository ?? ''))
    problems.push(`repository '${req.repository}' is not a lowercase repository path`);
  if (req.tag !== undefined && !TAG_RE.test(req.tag))
    problems.push(`tag '${req.tag}' is not a valid tag`);
  for (const name of Object.keys(req.extraVars ?? {}))
    if (!EXTRA_VAR_RE.test(name)) problems.push(`extra var name '${name}' is not an identifier`);
  if (problems.length > 0) throw new ImageBuildError('input', problems.join('; '));
}

/**
 * A name of its own for this build's container, the host Ansible's docker connection runs
 * the role in: concurrent builds, and a container a killed build left behind, never clash.
 */
function buildContainerName(): string {
  return `stepdeploy-build-${process.pid}-${randomBytes(4).toString('hex')}`;
}

function defaultTag(sourceRevision: string, appKey: string): string {
  const revision = sourceRevision.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 40);
  return `${revision}-${appKey.slice(0, 8)}`.replace(/^[.-]/, 'r');
}

/**
 * Runs `fn` holding a lock file in the temp directory, so that concurrent builds on this
 * machine build a given base stage once instead of racing to tag two different images.
 * A lock whose owner process is gone is taken over; a live one is waited for however long
 * its build takes.
 */
function withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  return withFileLock(join(tmpdir(), `stepdeploy-${name}.lock`), fn, {
    timeoutMs: Number.POSITIVE_INFINITY,
    staleMs: Number.POSITIVE_INFINITY,
    pollMs: 500,
  });
}

/** Reads the digest the registry gave the pushed tag (Packer 1.6.6's manifest lacks it). */
async function pushedDigest(registry: string, repository: string, ref: string): Promise<string> {
  const { stdout } = await run('inspect', 'docker', [
    'image',
    'inspect',
    '--format',
    '{{json .RepoDigests}}',
    ref,
  ]);
  const digests = JSON.parse(stdout.trim() || '[]') as string[];
  const prefix = `${registry}/${repository}@`;
  const match = digests.find((d) => d.startsWith(prefix));
  if (!match)
    throw new ImageBuildError('inspect', `no digest for ${prefix} among ${stdout.trim()}`);
  return match.slice(prefix.length);
}

/**
 * Builds the WordPress image with the real `packer build` of packer/ (Docker builder +
 * Ansible provisioner) and pushes it. The base stage (system packages) is built only when
 * no image exists for the hash of its inputs; the app stage is skipped when an identical
 * one (same base, role files, template, revision and extra vars) was built before.
 */
export async function buildImage(req: ImageBuildRequest): Promise<ImageBuildResult> {
  if (!req.onPhase) return buildStages(req);
  return new BuildPhaseTracker(req.onPhase).around((feed) =>
    buildStages({
      ...req,
      onLog: (line) => {
        feed(line);
        req.onLog?.(line);
      },
    }),
  );
}

async function buildStages(req: ImageBuildRequest): Promise<ImageBuildResult> {
  validate(req);
  const onLog = req.onLog;
  const extraVars = req.extraVars ?? {};
  const baseImage = req.baseImage ?? DEFAULT_BASE_IMAGE;
  const durationsMs = { base: 0, app: 0, push: 0 };
  const site = await readSiteSource(req.siteDir ?? DEFAULT_SITE_DIR).catch((error: unknown) => {
    if (error instanceof SiteSourceError) throw new ImageBuildError('input', error.message);
    throw error;
  });

  let baseImageId = await imageId(baseImage);
  if (!baseImageId && baseImage === DEFAULT_BASE_IMAGE) {
    await run('base-image', join(ROOT, 'scripts', 'base-image.sh'), [], onLog);
    baseImageId = await imageId(baseImage);
  }
  if (!baseImageId)
    throw new ImageBuildError('base-image', `base image ${baseImage} does not exist locally`);

  const { stdout: hashOut } = await run('base', join(PACKER_DIR, 'base-stage-hash.sh'), [
    `${baseImage}@${baseImageId}`,
  ]);
  const baseStageTag = hashOut.trim();
  const baseStageRef = `${BASE_STAGE_REPOSITORY}:${baseStageTag}`;
  const commonVars = [
    '-var',
    `base_image=${baseImage}`,
    '-var',
    `base_stage_repository=${BASE_STAGE_REPOSITORY}`,
    '-var',
    `base_stage_tag=${baseStageTag}`,
    '-var',
    `source_revision=${req.sourceRevision}`,
    '-var',
    `registry=${req.registry}`,
    '-var',
    `repository=${req.repository}`,
    '-var',
    `build_cpu_shares=${LOCAL_BUILD_CPU_SHARES}`,
    '-var',
    `build_container_name=${buildContainerName()}`,
  ];

  let baseStageId = await imageId(baseStageRef);
  let baseReused = baseStageId !== undefined;
  if (!baseReused) {
    baseStageId = await withLock(`base-stage-${baseStageTag}`, async () => {
      // Another build may have made it while this one waited for the lock.
      const made = await imageId(baseStageRef);
      if (made) {
        baseReused = true;
        return made;
      }
      const started = Date.now();
      onLog?.(`image-build: building base stage ${baseStageRef}`);
      await run(
        'base',
        'packer',
        [
          'build',
          '-color=false',
          '-only=docker.base',
          ...commonVars,
          '-var',
          'image_tag=unused',
          PACKER_DIR,
        ],
        onLog,
        true,
      );
      durationsMs.base = Date.now() - started;
      return imageId(baseStageRef);
    });
    if (!baseStageId)
      throw new ImageBuildError('base', `packer finished but ${baseStageRef} does not exist`);
  }
  if (baseReused) onLog?.(`image-build: reusing base stage ${baseStageRef}`);
  if (!baseStageId) throw new ImageBuildError('base', `${baseStageRef} does not exist`);
  const appKey = await appStageKey(baseStageId, req.sourceRevision, extraVars, site.hash);
  const appStageRef = `${APP_STAGE_REPOSITORY}:${appKey}`;
  const tag = req.tag ?? defaultTag(req.sourceRevision, appKey);
  const pushRef = `${req.registry}/${req.repository}:${tag}`;
  const appStageSkipped = (await imageId(appStageRef)) !== undefined;

  if (appStageSkipped) {
    onLog?.(`image-build: app stage ${appStageRef} is unchanged; tagging and pushing it`);
    const started = Date.now();
    await run('push', 'docker', ['tag', appStageRef, pushRef], onLog);
    await run('push', 'docker', ['push', pushRef], onLog);
    durationsMs.push = Date.now() - started;
  } else {
    const workDir = await mkdtemp(join(tmpdir(), 'stepdeploy-packer-'));
    try {
      const started = Date.now();
      let pushStarted: number | undefined;
      const manifestPath = join(workDir, 'manifest.json');
      try {
        await run(
          'app',
          'packer',
          [
            'build',
            '-color=false',
            '-only=docker.app',
            ...commonVars,
            '-var',
            `image_tag=${tag}`,
            '-var',
            `ansible_extra_vars=${JSON.stringify(extraVars)}`,
            '-var',
            `manifest_path=${manifestPath}`,
            '-var',
            `site_dir=${site.dir}`,
            PACKER_DIR,
          ],
          (line) => {
            if (pushStarted === undefined && line.includes('(type docker-push)'))
              pushStarted = Date.now();
            onLog?.(line);
          },
          true,
        );
      } catch (err) {
        // A failure after the push began is a push failure, whatever packer calls it.
        if (err instanceof ImageBuildError && pushStarted !== undefined)
          throw new ImageBuildError('push', err.message, err.logTail, err);
        throw err;
      }
      const finished = Date.now();
      durationsMs.app = (pushStarted ?? finished) - started;
      durationsMs.push = pushStarted === undefined ? 0 : finished - pushStarted;
      const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as {
        builds: { custom_data?: { image?: string } }[];
      };
      if (manifest.builds.at(-1)?.custom_data?.image !== pushRef)
        throw new ImageBuildError('app', `packer manifest does not record ${pushRef}`);
      await run('app', 'docker', ['tag', pushRef, appStageRef], onLog);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }

  const imageDigest = await pushedDigest(req.registry, req.repository, pushRef);
  return {
    imageUri: `${req.registry}/${req.repository}@${imageDigest}`,
    imageDigest,
    tag,
    baseReused,
    appStageSkipped,
    siteHash: site.hash,
    durationsMs,
  };
}
