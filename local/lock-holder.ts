import { hostname } from 'node:os';

/**
 * Which process holds a local release lock. A local execution lives in the `stepdeploy`
 * process that started it, so when that process is gone (Ctrl-C, a closed terminal, a kill)
 * the release is over: its lock is stale at once rather than at the end of its lease, which
 * would keep every later release waiting for up to an hour. On AWS the execution runs on
 * its own and the lease stands.
 */
export interface LockHolderProcess {
  readonly pid: number;
  readonly host: string;
}

/** The current process, as a lock records it. */
export function thisProcess(): LockHolderProcess {
  return { pid: process.pid, host: hostname() };
}

/** Whether a process of this machine runs: signal 0 checks without sending anything. */
export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the process that holds a lock is known to be gone: recorded on this machine and no
 * longer running. A lock without the record, or from another machine, is judged by its
 * lease only. Pure but for `runs`.
 */
export function holderGone(
  held: { readonly holderPid?: unknown; readonly holderHost?: unknown } | object,
  here: string = hostname(),
  runs: (pid: number) => boolean = processRuns,
): boolean {
  const { holderPid: pid, holderHost: host } = held as {
    readonly holderPid?: unknown;
    readonly holderHost?: unknown;
  };
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return false;
  if (host !== here) return false;
  return !runs(pid);
}
