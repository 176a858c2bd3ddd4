import { describe, expect, it } from 'vitest';
import { median, percentile, round, summarize } from '../../../bench/lib/stats.ts';

describe('percentile', () => {
  it.each([
    { samples: [5], p: 50, want: 5 },
    { samples: [1, 2, 3, 4], p: 50, want: 2.5 },
    { samples: [4, 1, 3, 2], p: 0, want: 1 },
    { samples: [4, 1, 3, 2], p: 100, want: 4 },
    { samples: [10, 20, 30, 40, 50], p: 90, want: 46 },
  ])('p$p of $samples is $want', ({ samples, p, want }) => {
    // Prepare: the table row. Act
    const got = percentile(samples, p);
    // Assess
    expect(got).toBeCloseTo(want, 10);
  });

  it.each([
    { samples: [], p: 50, error: 'no samples' },
    { samples: [1, Number.NaN], p: 50, error: 'finite' },
    { samples: [1, 2], p: 101, error: 'within 0..100' },
  ])('refuses $samples at p$p', ({ samples, p, error }) => {
    // Prepare: the table row. Act / Assess
    expect(() => percentile(samples, p)).toThrow(error);
  });
});

describe('summarize', () => {
  it('gives the median unmoved by one slow outlier, and the spread', () => {
    // Prepare
    const samples = [100, 102, 98, 101, 99, 900];
    // Act
    const s = summarize(samples);
    // Assess
    expect(s).toMatchObject({ n: 6, min: 98, max: 900, median: 100.5 });
    expect(s.mean).toBeCloseTo(1400 / 6, 10);
    expect(s.stdev).toBeGreaterThan(300);
    expect(median([3, 1, 2])).toBe(2);
  });

  it('does not mutate the samples and has zero spread for one sample', () => {
    // Prepare
    const samples = [3, 1, 2];
    // Act
    const one = summarize([7]);
    summarize(samples);
    // Assess
    expect(samples).toEqual([3, 1, 2]);
    expect(one.stdev).toBe(0);
  });
});

describe('round', () => {
  it.each([
    { v: 1.23456789, d: 4, want: 1.235 },
    { v: 123456.7, d: 3, want: 123000 },
    { v: 0, d: 4, want: 0 },
  ])('rounds $v to $d significant digits', ({ v, d, want }) => {
    // Prepare: the table row. Act / Assess
    expect(round(v, d)).toBe(want);
  });
});
