import { describe, expect, it } from 'vitest';
import { earliest, firstTrialWrongAnswer } from '../../../bench/lib/local-scenarios.ts';

const entered = (name: string, timestamp: number) => ({
  type: 'StateEntered',
  timestamp,
  state: { name },
});
const checkTrialExited = (
  timestamp: number,
  check: { status: string; reason: string; progress: { polls: number; failingStreak: number } },
) => ({
  type: 'StateExited',
  timestamp,
  state: { name: 'CheckTrial', output: { trial: { check: { taskArn: 'trial-1', ...check } } } },
});

describe('the first wrong answer of the trial task', () => {
  it.each([
    {
      case: 'a poll still waiting, then a wrong answer: the wrong poll, from when it started',
      events: [
        entered('CheckTrial', 1_000),
        checkTrialExited(1_200, {
          status: 'IN_PROGRESS',
          reason: 'trial task pending',
          progress: { polls: 1, failingStreak: 0 },
        }),
        entered('WaitForTrial', 1_200),
        entered('CheckTrial', 3_700),
        checkTrialExited(3_900, {
          status: 'IN_PROGRESS',
          reason: '/healthz answered 500: unhealthy',
          progress: { polls: 2, failingStreak: 1 },
        }),
      ],
      expected: { at: 3_700, detail: '/healthz answered 500: unhealthy' },
    },
    {
      case: 'a trial that stopped fails at once (streak unchanged, status FAILED)',
      events: [
        entered('CheckTrial', 2_000),
        checkTrialExited(2_300, {
          status: 'FAILED',
          reason: 'the trial task stopped before it served',
          progress: { polls: 1, failingStreak: 0 },
        }),
      ],
      expected: { at: 2_000, detail: 'the trial task stopped before it served' },
    },
    {
      case: 'a trial that passed: no signal',
      events: [
        entered('CheckTrial', 2_000),
        checkTrialExited(2_300, {
          status: 'PASSED',
          reason: '/healthz, /readyz and / answered 200',
          progress: { polls: 1, failingStreak: 0 },
        }),
      ],
      expected: undefined,
    },
  ])('$case', ({ events, expected }) => {
    // Act
    const signal = firstTrialWrongAnswer(events);
    // Assess
    expect(signal && { at: signal.at, detail: signal.detail }).toEqual(expected);
    if (signal) expect(signal).toMatchObject({ kind: 'trial-answered-wrongly', task: 'trial-1' });
  });

  it('the earliest signal wins, whatever its kind', () => {
    // Prepare
    const exit = { at: 2_100, kind: 'container-exited', task: 'c', detail: 'exit 3' } as const;
    const wrong = { at: 2_000, kind: 'trial-answered-wrongly', task: 't', detail: 'x' } as const;
    // Act / Assess
    expect(earliest(exit, undefined, wrong)).toBe(wrong);
    expect(earliest(undefined)).toBeUndefined();
  });
});
