import { describe, expect, it } from 'vitest';
import {
  type BenchEvent,
  firstEntered,
  lambdaInvocations,
  lambdaStates,
  transitions,
} from '../../../bench/lib/events.ts';

const ev = (type: string, name: string | undefined, timestamp: number): BenchEvent => ({
  type,
  timestamp,
  ...(name ? { state: { name } } : {}),
});

describe('lambdaStates', () => {
  it('finds Lambda Task states, in Parallel branches too, and skips service integrations', () => {
    // Prepare
    const definition = {
      States: {
        Validate: {
          Type: 'Task',
          Resource: 'arn:aws:lambda:us-east-1:123456789012:function:validate',
        },
        Both: {
          Type: 'Parallel',
          Branches: [
            {
              States: {
                Build: { Type: 'Task', Resource: 'arn:aws:states:::codebuild:startBuild.sync' },
                // An ASL substitution placeholder, as in statemachine/release.asl.json.
                Check: { Type: 'Task', Resource: ['$', '{CheckHealthFunctionArn}'].join('') },
              },
            },
          ],
        },
        Invoke: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke' },
        Notify: { Type: 'Task', Resource: 'arn:aws:states:::sns:publish' },
        Done: { Type: 'Succeed' },
      },
    };
    // Act
    const names = lambdaStates(definition);
    // Assess
    expect([...names].sort()).toEqual(['Check', 'Invoke', 'Validate']);
  });
});

describe('transitions and lambdaInvocations', () => {
  it('counts one transition per state entered or retried, and one invocation per Lambda visit', () => {
    // Prepare: Validate runs once, Check fails once and is retried, Notify is not a Lambda
    const events = [
      ev('ExecutionStarted', undefined, 0),
      ev('StateEntered', 'Validate', 10),
      ev('StateExited', 'Validate', 40),
      ev('StateEntered', 'Check', 50),
      ev('StateFailed', 'Check', 70),
      ev('StateRetried', 'Check', 1070),
      ev('StateExited', 'Check', 1100),
      ev('StateEntered', 'Notify', 1200),
      ev('StateExited', 'Notify', 1300),
    ];
    // Act
    const count = transitions(events);
    const calls = lambdaInvocations(events, new Set(['Validate', 'Check']), 256);
    // Assess
    expect(count).toBe(4);
    expect(calls).toEqual([
      { function: 'Validate', durationMs: 30, memoryMb: 256 },
      { function: 'Check', durationMs: 20, memoryMb: 256 },
      { function: 'Check', durationMs: 30, memoryMb: 256 },
    ]);
    expect(firstEntered(events, 'Check')).toBe(50);
    expect(firstEntered(events, 'Rollback')).toBeUndefined();
  });
});
