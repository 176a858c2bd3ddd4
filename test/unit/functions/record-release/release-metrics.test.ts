import { describe, expect, it } from 'vitest';
import type { ReleaseOutcome } from '#commons/ledger.ts';
import { type ReleaseMetric, releaseMetrics } from '#functions/record-release/record-release.ts';

const STARTED = '2026-01-04T00:00:00.000Z';
const FINISHED = '2026-01-04T00:07:30.000Z';
const GATE = { DeployService: 2_000, WaitForHealth: 60_000, CheckHealth: 15_500, SmokeTest: 4_000 };

const counts = (
  succeeded: number,
  failed: number,
  rolledBack: number,
  dirty: number,
): ReleaseMetric[] => [
  { name: 'ReleaseSucceeded', unit: 'Count', value: succeeded },
  { name: 'ReleaseFailed', unit: 'Count', value: failed },
  { name: 'ReleaseRolledBack', unit: 'Count', value: rolledBack },
  { name: 'FailureDirty', unit: 'Count', value: dirty },
];
const duration: ReleaseMetric = { name: 'ReleaseDuration', unit: 'Seconds', value: 450 };

describe('releaseMetrics', () => {
  it.each<[string, ReleaseOutcome, string, Record<string, number> | undefined, ReleaseMetric[]]>([
    [
      'a success: its count, its duration and the time spent in the health gate',
      'SUCCEEDED',
      FINISHED,
      GATE,
      [...counts(1, 0, 0, 0), duration, { name: 'TimeToHealthy', unit: 'Seconds', value: 75.5 }],
    ],
    [
      'a failure before any deploy: no time to healthy',
      'FAILED',
      FINISHED,
      { ValidateInput: 100, BuildImage: 90_000 },
      [...counts(0, 1, 0, 0), duration],
    ],
    [
      'a rollback: counted as rolled back only, never as healthy',
      'ROLLED_BACK',
      FINISHED,
      GATE,
      [...counts(0, 0, 1, 0), duration],
    ],
    ['a dirty failure', 'DIRTY', FINISHED, GATE, [...counts(0, 0, 0, 1), duration]],
    [
      'a success whose history could not be read: no time to healthy',
      'SUCCEEDED',
      FINISHED,
      undefined,
      [...counts(1, 0, 0, 0), duration],
    ],
    [
      'a success that never waited (healthy on the first poll)',
      'SUCCEEDED',
      FINISHED,
      { CheckHealth: 800 },
      [...counts(1, 0, 0, 0), duration, { name: 'TimeToHealthy', unit: 'Seconds', value: 0.8 }],
    ],
    [
      'a clock that went backwards: no duration rather than a negative one',
      'FAILED',
      '2026-01-03T23:59:00.000Z',
      undefined,
      counts(0, 1, 0, 0),
    ],
  ])('%s', (_name, outcome, finishedAt, durationsMs, expected) => {
    // Prepare: the table row
    // Act
    const metrics = releaseMetrics(outcome, STARTED, finishedAt, durationsMs);
    // Assess
    expect(metrics).toEqual(expected);
  });

  it('counts every release exactly once across the four outcomes', () => {
    // Prepare
    const outcomes: ReleaseOutcome[] = ['SUCCEEDED', 'FAILED', 'ROLLED_BACK', 'DIRTY'];
    // Act
    const totals = outcomes.map((outcome) =>
      releaseMetrics(outcome, STARTED, FINISHED, GATE)
        .filter((m) => m.unit === 'Count')
        .reduce((sum, m) => sum + m.value, 0),
    );
    // Assess
    expect(totals).toEqual([1, 1, 1, 1]);
  });
});
