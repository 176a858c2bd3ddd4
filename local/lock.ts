import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pollUntil } from '#commons/wait.ts';

/** The lock file could not be taken in time. */
export class LockTimeoutError extends Error {
  constructor(path: string, holder: string) {
    super(`could not take ${path} in time (held by ${holder || 'another process'})`);
    this.name = 'LockTimeoutError';
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Options for {@link withFileLock}. */
export interface FileLockOptions {
  /** Give up after this long (default 60 s). */
  readonly timeoutMs?: number;
  /** A lock older than this is taken over even if its pid lives (default 120 s). */
  readonly staleMs?: number;
  /** Milliseconds between attempts while another holds it (default 20 to 50, jittered). */
  readonly pollMs?: number;
}

// Holders in this process, by path: later callers queue on the promise instead of polling.
const local = new Map<string, Promise<unknown>>();

/**
 * Runs `body` holding an exclusive lock file (O_EXCL create, our pid inside), so concurrent
 * calls in this process and in other processes on the machine run one at a time. A lock whose
 * holder died (its pid is gone) or that is older than `staleMs` is taken over.
 */
export async function withFileLock<R>(
  path: string,
  body: () => Promise<R>,
  opts: FileLockOptions = {},
): Promise<R> {
  const previous = local.get(path) ?? Promise.resolve();
  let release: () => void = () => {};
  const mine = new Promise<void>((r) => {
    release = r;
  });
  const chained = previous.then(() => mine);
  local.set(path, chained);
  try {
    await previous.catch(() => undefined);
    await acquire(path, opts);
    try {
      return await body();
    } finally {
      await rm(path, { force: true });
    }
  } finally {
    release();
    if (local.get(path) === chained) local.delete(path);
  }
}

async function acquire(path: string, opts: FileLockOptions): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const staleMs = opts.staleMs ?? 120_000;
  let holder = '';
  // Taken, or not yet: a lock whose holder is gone is removed and tried again at once.
  const take = async (): Promise<boolean> => {
    try {
      const fh = await open(path, 'wx', 0o600);
      await fh.writeFile(String(process.pid));
      await fh.close();
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    holder = (await readFile(path, 'utf8').catch(() => '')).trim();
    const st = await stat(path).catch(() => undefined);
    // An empty file is a holder between create and write: give it a moment before judging.
    const dead = holder !== '' && !alive(Number(holder));
    if (st && (dead || Date.now() - st.mtimeMs > staleMs)) {
      await rm(path, { force: true });
      return take();
    }
    return false;
  };
  await pollUntil(take, {
    intervalMs: opts.pollMs === undefined ? () => 20 + Math.random() * 30 : opts.pollMs,
    timeoutMs: opts.timeoutMs ?? 60_000,
    description: `the lock ${path}`,
    onTimeout: () => {
      throw new LockTimeoutError(path, holder);
    },
  });
}
