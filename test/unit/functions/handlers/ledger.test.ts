import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from './context.ts';

vi.hoisted(() => {
  process.env.LEDGER_TABLE_NAME = 'sd-ledger';
  process.env.LEDGER_GOOD_INDEX = 'byGoodAt';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});

const { handler: find } = await import('#functions/find-last-known-good/handler.ts');
const { handler: record } = await import('#functions/record-release/handler.ts');
const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const td = (n: number) => `arn:aws:ecs:us-east-1:123456789012:task-definition/sd-wordpress:${n}`;

beforeEach(() => {
  ddb.reset();
  sfn.reset();
});

describe('FindLastKnownGood handler', () => {
  it('queries the sparse good index newest first and skips the failing revision', async () => {
    // Prepare
    ddb.on(QueryCommand).resolves({
      Items: [
        {
          service: 'sd',
          releaseId: 'r-3',
          outcome: 'SUCCEEDED',
          finishedAt: '2026-01-03T00:00:00Z',
          taskDefinitionArn: td(9),
          goodAt: '2026-01-03T00:00:00Z',
        },
        {
          service: 'sd',
          releaseId: 'r-2',
          outcome: 'ROLLED_BACK',
          finishedAt: '2026-01-02T00:00:00Z',
          taskDefinitionArn: td(8),
          rollbackTaskDefinitionArn: td(7),
          goodAt: '2026-01-02T00:00:00Z',
        },
      ],
    });
    // Act
    const out = await find(
      {
        service: 'sd',
        releaseId: 'r-4',
        failedTaskDefinitionArn: td(9),
        previousTaskDefinitionArn: td(9),
      },
      lambdaContext('FindLastKnownGood'),
    );
    // Assess
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      TableName: 'sd-ledger',
      IndexName: 'byGoodAt',
      ScanIndexForward: false,
    });
    expect(out).toMatchObject({ taskDefinitionArn: td(7), releaseId: 'r-2' });
  });

  it('fails with NoKnownGoodError when nothing else is known healthy', async () => {
    // Prepare
    ddb.on(QueryCommand).resolves({ Items: [] });
    // Act
    const act = find(
      {
        service: 'sd',
        releaseId: 'r-1',
        failedTaskDefinitionArn: td(2),
        previousTaskDefinitionArn: td(2),
      },
      lambdaContext('FindLastKnownGood'),
    );
    // Assess
    await expect(act).rejects.toMatchObject({ name: 'NoKnownGoodError' });
  });
});

describe('RecordRelease handler', () => {
  const state = {
    release: {
      releaseId: 'r-4',
      trigger: 'manual',
      startedBy: 'alice',
      startedAt: '2026-01-04T00:00:00.000Z',
      source: { type: 'codecommit', commitId: 'a'.repeat(40) },
      target: { service: 'sd', cluster: 'c' },
    },
    outcome: {
      status: 'SUCCEEDED' as const,
      step: 'none',
      error: 'none',
      reason: 'ok',
      message: 'm',
    },
    artifacts: {
      image: { uri: 'r@sha256:1', digest: 'sha256:1' },
      snapshot: { id: 'sd-release-r-4' },
    },
    taskDef: { taskDefinitionArn: td(10), previousTaskDefinitionArn: td(9) },
    deploy: { health: { status: 'HEALTHY', reason: '1 task(s) running' } },
  };

  it('writes the record with per-step durations from the execution history', async () => {
    // Prepare
    const at = (s: number) => new Date(Date.UTC(2026, 0, 4, 0, 0, s));
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        {
          id: 1,
          timestamp: at(0),
          type: 'TaskStateEntered',
          stateEnteredEventDetails: { name: 'ValidateInput' },
        },
        {
          id: 2,
          timestamp: at(1),
          type: 'TaskStateExited',
          stateExitedEventDetails: { name: 'ValidateInput' },
        },
      ],
    });
    ddb.on(PutCommand).resolves({});
    // Act
    const out = await record(
      { executionArn: 'arn:aws:states:us-east-1:123456789012:execution:sd-release:r-4', state },
      lambdaContext('RecordRelease'),
    );
    // Assess
    const item = ddb.commandCalls(PutCommand)[0]?.args[0].input.Item;
    expect(item).toMatchObject({
      service: 'sd',
      releaseId: 'r-4',
      outcome: 'SUCCEEDED',
      taskDefinitionArn: td(10),
      goodTaskDefinitionArn: td(10),
      snapshotId: 'sd-release-r-4',
      durationsMs: { ValidateInput: 1000 },
    });
    expect(out).toMatchObject({ releaseId: 'r-4', outcome: 'SUCCEEDED' });
  });

  it('still records the outcome when the history cannot be read', async () => {
    // Prepare
    sfn
      .on(GetExecutionHistoryCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    ddb.on(PutCommand).resolves({});
    // Act
    await record(
      {
        executionArn: 'arn:x',
        state: {
          ...state,
          outcome: {
            status: 'DIRTY',
            step: 'CheckHealth',
            error: 'HealthCheckFailed',
            reason: 'r',
          },
        },
      },
      lambdaContext('RecordRelease'),
    );
    // Assess
    const item = ddb.commandCalls(PutCommand)[0]?.args[0].input.Item;
    expect(item?.outcome).toBe('DIRTY');
    expect(item?.durationsMs).toBeUndefined();
    expect(item?.goodAt).toBeUndefined();
  });
});
