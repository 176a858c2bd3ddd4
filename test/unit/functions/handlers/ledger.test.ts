import { GetExecutionHistoryCommand, type HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '#stack/constructs/dashboard.ts';
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
afterEach(() => {
  vi.restoreAllMocks();
});

type Emf = {
  _aws: {
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
  };
} & Record<string, unknown>;

/** The EMF documents Powertools printed to stdout while `act` ran. */
async function emfDuring(act: () => Promise<unknown>): Promise<Emf[]> {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  await act();
  vi.restoreAllMocks();
  return lines
    .flatMap((line) => line.split('\n'))
    .filter((line) => line.includes('"CloudWatchMetrics"'))
    .map((line) => JSON.parse(line) as Emf);
}

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

  it('publishes the release metrics as EMF in the namespace and dimension the dashboard reads', async () => {
    // Prepare: 60 s waiting plus 15 s polling in the health gate; the release took 7.5 minutes
    const at = (s: number) => new Date(Date.UTC(2026, 0, 4, 0, 0, s));
    const visit = (
      kind: 'Wait' | 'Task',
      name: string,
      from: number,
      to: number,
      id: number,
    ): HistoryEvent[] => [
      { id, timestamp: at(from), type: `${kind}StateEntered`, stateEnteredEventDetails: { name } },
      {
        id: id + 1,
        timestamp: at(to),
        type: `${kind}StateExited`,
        stateExitedEventDetails: { name },
      },
    ];
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        ...visit('Wait', 'WaitForHealth', 10, 70, 1),
        ...visit('Task', 'CheckHealth', 70, 85, 3),
      ],
    });
    ddb.on(PutCommand).resolves({});
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-01-04T00:07:30.000Z') });
    // Act
    const emf = await emfDuring(() =>
      record(
        { executionArn: 'arn:aws:states:us-east-1:123456789012:execution:sd-release:r-4', state },
        lambdaContext('RecordRelease'),
      ),
    );
    vi.useRealTimers();
    // Assess
    expect(emf).toHaveLength(1);
    const [doc] = emf as [Emf];
    const [directive] = doc._aws.CloudWatchMetrics;
    expect(directive?.Namespace).toBe(METRICS_NAMESPACE);
    expect(directive?.Dimensions).toEqual([['service']]);
    expect(doc.service).toBe(METRICS_SERVICE);
    expect(directive?.Metrics.map((m) => m.Name).sort()).toEqual([
      'FailureDirty',
      'ReleaseDuration',
      'ReleaseFailed',
      'ReleaseRolledBack',
      'ReleaseSucceeded',
      'TimeToHealthy',
    ]);
    expect(doc).toMatchObject({
      ReleaseSucceeded: 1,
      ReleaseFailed: 0,
      ReleaseRolledBack: 0,
      FailureDirty: 0,
      ReleaseDuration: 450,
      TimeToHealthy: 75,
    });
  });

  it('publishes no metric when the ledger write fails, so a retry does not count twice', async () => {
    // Prepare
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
    ddb
      .on(PutCommand)
      .rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    // Act
    let failure: unknown;
    const emf = await emfDuring(() =>
      record({ executionArn: 'arn:x', state }, lambdaContext('RecordRelease')).catch(
        (error: unknown) => {
          failure = error;
        },
      ),
    );
    // Assess
    expect(failure).toBeInstanceOf(Error);
    expect(emf.flatMap((doc) => doc._aws.CloudWatchMetrics.flatMap((d) => d.Metrics))).toEqual([]);
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
