import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { stepDurations } from '#commons/durations.ts';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 10, 0, s));
const enter = (name: string, s: number, type = 'TaskStateEntered'): HistoryEvent => ({
  id: s,
  timestamp: at(s),
  type: type as never,
  stateEnteredEventDetails: { name },
});
const exit = (name: string, s: number, type = 'TaskStateExited'): HistoryEvent => ({
  id: s,
  timestamp: at(s),
  type: type as never,
  stateExitedEventDetails: { name },
});

describe('stepDurations', () => {
  it('sums loop visits and keeps parallel branches apart', () => {
    // Prepare
    const events = [
      enter('BuildAndSnapshot', 0, 'ParallelStateEntered'),
      enter('BuildImage', 0),
      enter('SnapshotDatabase', 0),
      exit('SnapshotDatabase', 2),
      exit('BuildImage', 50),
      exit('BuildAndSnapshot', 51, 'ParallelStateExited'),
      enter('CheckHealth', 60),
      exit('CheckHealth', 61),
      enter('CheckHealth', 76),
      exit('CheckHealth', 78),
      { id: 99, timestamp: at(80), type: 'ExecutionSucceeded' } as HistoryEvent,
    ];
    // Act
    const durations = stepDurations(events);
    // Assess
    expect(durations).toEqual({
      BuildAndSnapshot: 51000,
      BuildImage: 50000,
      SnapshotDatabase: 2000,
      CheckHealth: 3000,
    });
  });

  it('ignores a state still running (entered, never exited)', () => {
    // Prepare / Act
    const durations = stepDurations([enter('RecordRelease', 1)]);
    // Assess
    expect(durations).toEqual({});
  });
});
