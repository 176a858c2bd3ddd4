import { describe, expect, it } from 'vitest';
import { nextPollMs } from '#commons/health.ts';
import { LOCAL_RELEASE_OPTIONS, localPollMs } from '#local/release.ts';
import { localPollTiming } from '#local/steps/check-health.ts';
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

  it('paces the local gate by the scaled target group: 2.5 s while starting, 5 s while draining', () => {
    // Prepare: the template (10 s, threshold 2, 20 s delay) at time factor 0.5, as HAProxy plays it
    const lb = {
      healthCheck: { intervalMs: 5000, fall: 2 } as never,
      deregistrationDelayMs: 10_000,
      targetGroup: { timeFactor: 0.5 },
    };
    // Act
    const timing = localPollTiming(lb, LOCAL_RELEASE_OPTIONS.pollIntervalSeconds);
    // Assess: the release's 15 s cap is scaled like every timing (7.5 s) and binds nothing
    expect(timing).toEqual({
      intervalMs: 5000,
      unhealthyThreshold: 2,
      deregistrationDelayMs: 10_000,
      maxPollMs: 7500,
    });
    expect(nextPollMs('starting', timing)).toBe(2500);
    expect(nextPollMs('draining', timing)).toBe(5000);
  });
});
