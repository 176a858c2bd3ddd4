import { execFile, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { NamedError } from '#commons/errors.ts';
import { pollUntil } from '#commons/wait.ts';
import { type BuildPhaseEvent, runAsPhase } from './build-phases.ts';
import { imageExists } from './docker.ts';

const run = promisify(execFile);

/** The Docker engine is unavailable and cannot be started here; the message says what to do. */
export class EngineUnavailableError extends NamedError {
  override readonly name = 'EngineUnavailableError';
}

async function dockerInfoOk(): Promise<boolean> {
  try {
    await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

async function commandExists(cmd: string): Promise<boolean> {
  try {
    await run('sh', ['-c', 'command -v "$1"', 'sh', cmd]);
    return true;
  } catch {
    return false;
  }
}

async function isDebian(): Promise<boolean> {
  try {
    await access('/etc/debian_version');
    const osRelease = await readFile('/etc/os-release', 'utf8').catch(() => '');
    return /^ID(_LIKE)?=.*debian/m.test(osRelease) || osRelease === '';
  } catch {
    return false;
  }
}

/** The host commands local mode runs, and the Debian package that provides each. */
export const HOST_TOOLS: Readonly<Record<string, string>> = {
  dockerd: 'docker.io',
  packer: 'packer',
  'ansible-playbook': 'ansible-core',
  debootstrap: 'debootstrap',
};

/** The Debian packages to install for the commands that are missing, once each. Pure. */
export function packagesFor(missingCommands: readonly string[]): string[] {
  return [...new Set(missingCommands.map((cmd) => HOST_TOOLS[cmd] ?? cmd))];
}

async function missingHostPackages(): Promise<string[]> {
  const missing: string[] = [];
  for (const cmd of Object.keys(HOST_TOOLS)) if (!(await commandExists(cmd))) missing.push(cmd);
  return packagesFor(missing);
}

/** Options for {@link ensureEngine}. */
export interface EnsureEngineOptions {
  /** Where dockerd's output goes when we start it. */
  readonly logFile?: string;
  /** How long to wait for a started dockerd to answer. */
  readonly readyTimeoutMs?: number;
  /** Progress lines (never secrets). */
  readonly log?: (line: string) => void;
}

/**
 * Makes sure the host tools local mode runs are installed (Docker Engine, Packer, Ansible,
 * debootstrap) and a Docker engine answers `docker info`. On Debian as root it installs the
 * missing packages with apt-get and starts `dockerd` in the background; elsewhere it throws
 * EngineUnavailableError saying what to install or start.
 */
export async function ensureEngine(opts: EnsureEngineOptions = {}): Promise<'running' | 'started'> {
  const log = opts.log ?? (() => {});
  const missing = await missingHostPackages();
  if (missing.length === 0 && (await dockerInfoOk())) return 'running';

  const root = process.getuid?.() === 0;
  const debian = await isDebian();
  if (!root || !debian) {
    const what =
      missing.length > 0
        ? `Missing host tools: ${missing.join(', ')}.`
        : 'The Docker engine is not reachable.';
    throw new EngineUnavailableError(
      debian
        ? `${what} Install and start them as root: apt-get install -y ${['docker.io', ...missing.filter((p) => p !== 'docker.io')].join(' ')} && dockerd & (or run stepdeploy with sudo)`
        : `${what} Install Docker Engine, Packer, Ansible and debootstrap for your system and start Docker, then retry (\`docker info\` must succeed).`,
    );
  }

  if (missing.length > 0) {
    log(`installing ${missing.join(', ')} with apt-get`);
    try {
      await run('apt-get', ['update'], { timeout: 600_000 });
      await run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], {
        timeout: 900_000,
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    } catch (err) {
      throw new EngineUnavailableError(
        `apt-get install ${missing.join(' ')} failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
  // A package install may have started the service already (systemd hosts).
  if (await dockerInfoOk()) return missing.length > 0 ? 'started' : 'running';

  const logFile = opts.logFile ?? '/tmp/stepdeploy-dockerd.log';
  log(`starting dockerd (log: ${logFile})`);
  const fd = openSync(logFile, 'a');
  const child = spawn('dockerd', [], { detached: true, stdio: ['ignore', fd, fd] });
  child.unref();

  return pollUntil(
    async () => {
      if (await dockerInfoOk()) return 'started' as const;
      if (child.exitCode !== null)
        throw new EngineUnavailableError(`dockerd exited with ${child.exitCode}; see ${logFile}`);
      return undefined;
    },
    {
      intervalMs: 500,
      timeoutMs: opts.readyTimeoutMs ?? 60_000,
      description: 'dockerd',
      onTimeout: () => {
        throw new EngineUnavailableError(`dockerd did not become ready in time; see ${logFile}`);
      },
    },
  );
}

/**
 * Makes the base image with scripts/base-image.sh unless it exists; with `onPhase`, the
 * script's run (a pull, else debootstrap: minutes) is one phase, stage `debian`.
 */
export async function ensureBaseImage(
  scriptPath: string,
  tag: string,
  onPhase?: (event: BuildPhaseEvent) => void,
): Promise<void> {
  if (await imageExists(tag)) return;
  const suite = tag.split(':')[1] ?? 'trixie';
  const make = () =>
    run(scriptPath, [suite, tag], { timeout: 1_800_000, maxBuffer: 64 * 1024 * 1024 });
  try {
    const phase = {
      stage: 'debian',
      name: `make ${tag} (pull, else debootstrap)`,
      kind: 'script',
    } as const;
    await (onPhase ? runAsPhase(onPhase, phase, make) : make());
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new EngineUnavailableError(
      `could not make the base image ${tag}: ${(e.stderr ?? e.message).trim()}`,
      { cause: err },
    );
  }
}
