import { describe, expect, it } from 'vitest';
import { formatDuration } from '#execution/labels.ts';
import { summarize } from '#execution/progress.ts';
import { fromLocalEvent, fromSfnHistory, type StepEvent } from '#execution/step-events.ts';
import { HistoryBuilder, rolledBackRelease, T0 } from '../cli/fixtures.ts';

describe('formatDuration', () => {
  it.each([
    [undefined, '-'],
    [400, '0.4s'],
    [42_000, '42s'],
    [185_000, '3m 05s'],
    [3_720_000, '1h 02m'],
  ])('%s ms reads %s', (ms, text) => {
    // Act / Assess
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('fromSfnHistory', () => {
  it('attributes task failures to their state and reports a retry that followed', () => {
    // Prepare: CheckHealth fails once, is retried by its Retry clause, then succeeds.
    const builder = new HistoryBuilder().started();
    builder.lambdaFails(
      'CheckHealth',
      1,
      'TransientAwsError',
      'ThrottlingException: Rate exceeded',
    );
    const failedId = builder.events.length;
    builder.events.push(
      {
        id: failedId + 1,
        previousEventId: failedId,
        type: 'TaskScheduled',
        timestamp: new Date(T0 + 5_000),
      },
      {
        id: failedId + 2,
        previousEventId: failedId + 1,
        type: 'TaskSucceeded',
        timestamp: new Date(T0 + 6_000),
      },
      {
        id: failedId + 3,
        previousEventId: failedId + 2,
        type: 'TaskStateExited',
        timestamp: new Date(T0 + 6_000),
        stateExitedEventDetails: { name: 'CheckHealth' },
      },
    );
    // Act
    const progress = summarize(fromSfnHistory(builder.events), T0 + 7_000);
    // Assess
    expect(progress.steps).toEqual([
      expect.objectContaining({
        step: 'CheckHealth',
        status: 'succeeded',
        retries: 1,
        error: 'TransientAwsError',
      }),
    ]);
    expect(progress.failure).toBeUndefined();
    expect(progress.currentSteps).toEqual([]);
  });
});

describe('fromLocalEvent (aws-local-stepfunctions events)', () => {
  it('renders a local rolled-back run exactly like the same run on AWS', () => {
    // Prepare: the AWS history, and the event log aws-local-stepfunctions would stream for it.
    const aws = fromSfnHistory(rolledBackRelease().events);
    const local = aws.flatMap((event): object[] => {
      const state =
        'step' in event
          ? { name: event.step, type: event.type === 'StepEntered' ? event.stateType : 'Task' }
          : undefined;
      switch (event.type) {
        case 'ExecutionStarted':
          return [{ type: 'ExecutionStarted', timestamp: event.at, input: event.input }];
        case 'ExecutionFailed':
          return [
            {
              type: 'ExecutionFailed',
              timestamp: event.at,
              Error: event.error,
              Cause: event.cause,
            },
          ];
        case 'StepEntered':
          return [{ type: 'StateEntered', timestamp: event.at, state }];
        case 'StepExited':
          return [{ type: 'StateExited', timestamp: event.at, state }];
        case 'StepFailed':
          return [
            {
              type: 'StateFailed',
              timestamp: event.at,
              state,
              Error: event.error,
              Cause: event.cause,
            },
          ];
        default:
          return [];
      }
    });
    // Act
    const converted = local
      .map((event) => fromLocalEvent(event as Parameters<typeof fromLocalEvent>[0]))
      .filter((event): event is StepEvent => event !== undefined);
    // Assess: same outcome, failure and rows (state types of exits are not needed).
    const fromAws = summarize(aws, T0);
    const fromLocal = summarize(converted, T0);
    expect(fromLocal.outcome).toBe('rolled-back');
    expect(fromLocal.failure).toEqual(fromAws.failure);
    expect(fromLocal.steps.map((row) => [row.step, row.status, row.durationMs])).toEqual(
      fromAws.steps.map((row) => [row.step, row.status, row.durationMs]),
    );
  });

  it('turns a local Error cause object into text', () => {
    // Act
    const event = fromLocalEvent({
      type: 'StateFailed',
      timestamp: T0,
      state: { name: 'CheckHealth', type: 'Task' },
      Error: 'UnhealthyTargetsError',
      Cause: new Error('target 127.0.0.1:18001 DOWN'),
    });
    // Assess
    expect(event).toEqual({
      type: 'StepFailed',
      at: T0,
      step: 'CheckHealth',
      error: 'UnhealthyTargetsError',
      cause: 'target 127.0.0.1:18001 DOWN',
    });
  });
});
