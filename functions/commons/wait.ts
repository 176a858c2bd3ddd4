/**
 * Waiting: one sleep and one deadline loop for every layer (Lambdas, local mode, the CLI, the
 * bench and the tests), so each wait reads the same way and honours an abort signal.
 */

/** A deadline loop ran out of time; `description` names what it waited for. */
export class PollTimeoutError extends Error {
  readonly description: string;
  readonly timeoutMs: number;
  constructor(description: string, timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms waiting for ${description}`);
    this.name = 'PollTimeoutError';
    this.description = description;
    this.timeoutMs = timeoutMs;
  }
}

/** Resolves after `ms` milliseconds; rejects with the signal's reason if it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** What a probe answers while the awaited condition does not hold yet. */
export type NotYet = undefined | null | false;

/** Options for {@link pollUntil}. */
export interface PollOptions<T> {
  /** Milliseconds between probes; a function for a jittered interval. */
  readonly intervalMs: number | (() => number);
  /** How long to keep probing; one last probe runs at the deadline. */
  readonly timeoutMs: number;
  /** What is awaited, for the timeout error ("the HAProxy runtime API"). */
  readonly description: string;
  /** Ends the wait early, rejecting with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * Runs at the deadline instead of throwing PollTimeoutError: throws the caller's own error
   * (with what the probes saw), or returns a value to settle for.
   */
  readonly onTimeout?: () => T | Promise<T>;
}

/**
 * Calls `probe` until it answers something other than undefined, null or false, and returns
 * that answer. An error the probe throws ends the wait (a probe that tolerates a failure
 * catches it and answers "not yet"). The probe always runs at least once.
 */
export async function pollUntil<T>(
  probe: () => T | NotYet | Promise<T | NotYet>,
  opts: PollOptions<T>,
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  const interval =
    typeof opts.intervalMs === 'function' ? opts.intervalMs : () => opts.intervalMs as number;
  for (;;) {
    opts.signal?.throwIfAborted();
    const answer = await probe();
    if (answer !== undefined && answer !== null && answer !== false) return answer;
    const left = deadline - Date.now();
    if (left <= 0) {
      if (opts.onTimeout) return opts.onTimeout();
      throw new PollTimeoutError(opts.description, opts.timeoutMs);
    }
    await sleep(Math.min(interval(), left), opts.signal);
  }
}
