/** Summary of a set of timing samples (all in the samples' unit). */
export interface Summary {
  readonly n: number;
  readonly min: number;
  readonly median: number;
  readonly mean: number;
  readonly p90: number;
  readonly max: number;
  /** Sample standard deviation (0 for a single sample). */
  readonly stdev: number;
}

function sorted(samples: readonly number[]): number[] {
  if (samples.length === 0) throw new RangeError('no samples');
  if (samples.some((s) => !Number.isFinite(s))) throw new RangeError('samples must be finite');
  return [...samples].sort((a, b) => a - b);
}

/**
 * The p-th percentile (0..100) by linear interpolation between closest ranks, the method
 * spreadsheets call PERCENTILE.INC. Pure.
 */
export function percentile(samples: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const s = sorted(samples);
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (rank - lo);
}

/** The median: robust against the odd slow run a noisy machine produces. Pure. */
export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

/** n, min, median, mean, p90, max and standard deviation of the samples. Pure. */
export function summarize(samples: readonly number[]): Summary {
  const s = sorted(samples);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const variance = s.length > 1 ? s.reduce((a, b) => a + (b - mean) ** 2, 0) / (s.length - 1) : 0;
  return {
    n: s.length,
    min: s[0] as number,
    median: percentile(s, 50),
    mean,
    p90: percentile(s, 90),
    max: s[s.length - 1] as number,
    stdev: Math.sqrt(variance),
  };
}

/** Rounds to the given number of significant digits, for readable JSON. Pure. */
export function round(value: number, digits = 4): number {
  if (!Number.isFinite(value) || value === 0) return value;
  return Number(value.toPrecision(digits));
}
