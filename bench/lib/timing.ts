/** Milliseconds since an arbitrary origin, monotonic (not wall-clock). */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Runs fn and returns its value with the elapsed monotonic milliseconds. */
export async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const started = nowMs();
  const value = await fn();
  return { ms: nowMs() - started, value };
}
