import { describe, expect, it } from 'vitest';
import { LOCAL_RELEASE_OPTIONS, localPollMs } from '#local/release.ts';
import { schedulerPollMs } from '#local/steps/context.ts';

describe('local release policy', () => {
  it('gives a slow target three health-check intervals of polls in a row', () => {
    // Prepare
    const pollsPerInterval = 2;
    // Assess
    expect(LOCAL_RELEASE_OPTIONS.maxUnhealthyPolls).toBe(3 * pollsPerInterval);
    expect(LOCAL_RELEASE_OPTIONS.requiredHealthyPolls).toBe(2);
  });

  it.each([
    [{}, 2000, 1000],
    [{}, 100, 100],
    [{ pollIntervalSeconds: 3 }, 2000, 3000],
  ])('localPollMs(%o, interval %d ms) is %d ms', (options, interval, want) => {
    // Act
    const got = localPollMs(options as never, interval);
    // Assess
    expect(got).toBe(want);
  });

  it.each([
    [2000, 1000],
    [300, 200],
  ])('the scheduler polls every %d ms health interval at %d ms', (interval, want) => {
    // Act / Assess
    expect(schedulerPollMs(interval)).toBe(want);
  });
});
