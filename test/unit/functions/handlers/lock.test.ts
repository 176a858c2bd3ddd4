import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { ECSClient, ListTasksCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from './context.ts';

vi.hoisted(() => {
  process.env.LOCK_TABLE_NAME = 'sd-lock';
  process.env.LOCK_LEASE_SECONDS = '7200';
  process.env.CLUSTER_ARN = 'arn:aws:ecs:us-east-1:123456789012:cluster/sd';
  process.env.POWERTOOLS_DEV = 'true';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});

const { handler: acquire } = await import('#functions/acquire-lock/handler.ts');
const { handler: release } = await import('#functions/release-lock/handler.ts');
const ddb = mockClient(DynamoDBDocumentClient);
const ecs = mockClient(ECSClient);
const CLUSTER = 'arn:aws:ecs:us-east-1:123456789012:cluster/sd';
const TRIAL = 'arn:aws:ecs:us-east-1:123456789012:task/sd/0f3c2b1a9e8d4c7b6a5f4e3d2c1b0a99';
const conditionFailed = () =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: { httpStatusCode: 400 },
  });

const STARTED = '2026-01-01T10:05:00.000Z';
const claimOf = (releaseId: string, startedAt = STARTED) => ({
  service: 'sd',
  releaseId,
  startedBy: 'alice',
  startedAt,
});
/** TransactWriteItems cancelled: one reason per item, in order (queue check, lock put). */
const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
    $metadata: { httpStatusCode: 400 },
    CancellationReasons: codes.map((Code) =>
      Code === 'None' ? { Code } : { Code, Message: 'The conditional request failed' },
    ),
  });
const queueOf = (newest: string, newestStartedAt: string) => ({
  Item: { service: 'sd#queue', newest, newestStartedAt, startedBy: 'carol', expiresAt: 1767268800 },
});

describe('AcquireLock handler', () => {
  beforeEach(() => ddb.reset());

  it('records itself as the newest claim, then takes the lock in a transaction that checks it', async () => {
    // Prepare
    ddb.on(GetCommand, { Key: { service: 'sd#queue' } }).resolves({});
    ddb.on(PutCommand).resolves({});
    ddb.on(TransactWriteCommand).resolves({});
    // Act
    const out = await acquire(claimOf('r-2'), lambdaContext('AcquireLock'));
    // Assess
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'sd-lock',
      Item: expect.objectContaining({
        service: 'sd#queue',
        newest: 'r-2',
        newestStartedAt: STARTED,
      }),
      ConditionExpression: 'attribute_not_exists(service)',
    });
    const items = ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(items[0]?.ConditionCheck).toMatchObject({
      Key: { service: 'sd#queue' },
      ConditionExpression: 'newest = :me',
      ExpressionAttributeValues: { ':me': 'r-2' },
    });
    const put = items[1]?.Put;
    expect(put?.ConditionExpression).toBe(
      'attribute_not_exists(service) OR expiresAt < :now OR holder = :me',
    );
    expect(put?.Item?.holder).toBe('r-2');
    expect(
      (put?.Item?.expiresAt as number) - (put?.ExpressionAttributeValues?.[':now'] as number),
    ).toBe(7200);
    expect(out.holder).toBe('r-2');
  });

  it('waits with LockHeldError naming the running release', async () => {
    // Prepare
    ddb
      .on(GetCommand, { Key: { service: 'sd#queue' } })
      .resolves(queueOf('r-1', '2026-01-01T10:00:00.000Z'));
    ddb.on(PutCommand).resolves({});
    ddb.on(TransactWriteCommand).rejects(cancelled('None', 'ConditionalCheckFailed'));
    ddb.on(GetCommand, { Key: { service: 'sd' } }).resolves({
      Item: {
        service: 'sd',
        holder: 'r-1',
        startedBy: 'bob',
        acquiredAt: '2026-01-01T10:00:00.000Z',
        expiresAt: 1767268800,
      },
    });
    // Act
    const act = acquire(claimOf('r-2', new Date().toISOString()), lambdaContext('AcquireLock'));
    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'LockHeldError',
      message: expect.stringMatching(/locked by release r-1 started by bob.*waiting as the newest/),
    });
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ newest: 'r-2' }),
      ConditionExpression: 'newest = :newest AND newestStartedAt = :at',
      ExpressionAttributeValues: { ':newest': 'r-1', ':at': '2026-01-01T10:00:00.000Z' },
    });
  });

  it('is superseded, writing nothing, when a newer release already asked', async () => {
    // Prepare
    ddb
      .on(GetCommand, { Key: { service: 'sd#queue' } })
      .resolves(queueOf('r-3', '2026-01-01T10:06:00.000Z'));
    // Act
    const act = acquire(claimOf('r-2'), lambdaContext('AcquireLock'));
    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'ReleaseSupersededError',
      message: expect.stringMatching(/superseded by release r-3 started by carol/),
    });
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('is superseded when a newer release asked between its two writes', async () => {
    // Prepare
    ddb
      .on(GetCommand, { Key: { service: 'sd#queue' } })
      .resolvesOnce({})
      .resolves(queueOf('r-3', '2026-01-01T10:06:00.000Z'));
    ddb.on(PutCommand).resolves({});
    ddb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None'));
    // Act
    const act = acquire(claimOf('r-2'), lambdaContext('AcquireLock'));
    // Assess
    await expect(act).rejects.toMatchObject({ name: 'ReleaseSupersededError' });
  });

  it('gives up with LockWaitTimeoutError once it waited longer than a lease', async () => {
    // Prepare
    ddb.on(GetCommand, { Key: { service: 'sd#queue' } }).resolves({});
    ddb.on(PutCommand).resolves({});
    ddb.on(TransactWriteCommand).rejects(cancelled('None', 'ConditionalCheckFailed'));
    ddb.on(GetCommand, { Key: { service: 'sd' } }).resolves({
      Item: { service: 'sd', holder: 'r-1', expiresAt: 1767268800 },
    });
    const longAgo = new Date(Date.now() - 7201 * 1000).toISOString();
    // Act
    const act = acquire(claimOf('r-2', longAgo), lambdaContext('AcquireLock'));
    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'LockWaitTimeoutError',
      message: expect.stringMatching(/waited longer than the lock's lease \(7200 s\)/),
    });
  });

  it.each([
    [
      'DynamoDB throttling',
      () =>
        Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
          name: 'ProvisionedThroughputExceededException',
          $metadata: { httpStatusCode: 400 },
        }),
    ],
    ['a transaction conflict', () => cancelled('TransactionConflict', 'None')],
  ])('turns %s into TransientAwsError for the ASL retry', async (_name, failure) => {
    // Prepare
    ddb.on(GetCommand).resolves({});
    ddb.on(PutCommand).resolves({});
    ddb.on(TransactWriteCommand).rejects(failure());
    // Act
    const act = acquire(claimOf('r-2'), lambdaContext('AcquireLock'));
    // Assess
    await expect(act).rejects.toMatchObject({ name: 'TransientAwsError' });
  });

  it('refuses malformed input before touching DynamoDB', async () => {
    // Prepare / Act
    const act = acquire({ service: 'sd' } as never, lambdaContext('AcquireLock'));
    const noStart = acquire(
      { ...claimOf('r-2'), startedAt: 'yesterday' },
      lambdaContext('AcquireLock'),
    );
    // Assess
    await expect(act).rejects.toMatchObject({ name: 'ParseError' });
    await expect(noStart).rejects.toMatchObject({ name: 'ParseError' });
    expect(ddb).not.toHaveReceivedAnyCommand();
  });
});

describe('ReleaseLock handler', () => {
  beforeEach(() => {
    ddb.reset();
    ecs.reset();
    // No trial of the release is left: ListTasks answers an empty page.
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });
  });

  it('deletes only a lock this release holds', async () => {
    // Prepare
    ddb.on(DeleteCommand).resolves({});
    // Act
    const out = await release({ service: 'sd', releaseId: 'r-2' }, lambdaContext('ReleaseLock'));
    // Assess
    expect(out).toEqual({ released: true });
    expect(ddb).toHaveReceivedCommandWith(DeleteCommand, {
      ConditionExpression: 'holder = :me',
      ExpressionAttributeValues: { ':me': 'r-2' },
    });
    expect(ecs).toHaveReceivedCommandWith(ListTasksCommand, {
      cluster: CLUSTER,
      startedBy: 'stepdeploy-trial-r-2',
      desiredStatus: 'RUNNING',
    });
    expect(ecs).not.toHaveReceivedCommand(StopTaskCommand);
  });

  it("leaves another release's lock alone without failing", async () => {
    // Prepare
    ddb.on(DeleteCommand).rejects(conditionFailed());
    // Act
    const out = await release({ service: 'sd', releaseId: 'r-2' }, lambdaContext('ReleaseLock'));
    // Assess
    expect(out).toEqual({ released: false, reason: 'lock of sd is not held by r-2' });
  });

  it('stops the trial task StopTrial left running, after freeing the lock', async () => {
    // Prepare
    ddb.on(DeleteCommand).resolves({});
    ecs.on(ListTasksCommand).resolves({ taskArns: [TRIAL] });
    ecs.on(StopTaskCommand).resolves({
      task: { taskArn: TRIAL, lastStatus: 'RUNNING', desiredStatus: 'STOPPED' },
    });
    // Act
    const out = await release({ service: 'sd', releaseId: 'r-3' }, lambdaContext('ReleaseLock'));
    // Assess
    expect(out).toEqual({ released: true, trialsStopped: [TRIAL] });
    expect(ecs).toHaveReceivedCommandWith(StopTaskCommand, {
      cluster: CLUSTER,
      task: TRIAL,
      reason: 'stepdeploy: release r-3 ended with its trial task running',
    });
  });

  it('frees the lock and reports, without failing, when the trial cannot be stopped', async () => {
    // Prepare
    ddb.on(DeleteCommand).resolves({});
    ecs.on(ListTasksCommand).rejects(
      Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    // Act
    const out = await release({ service: 'sd', releaseId: 'r-4' }, lambdaContext('ReleaseLock'));
    // Assess
    expect(out).toMatchObject({
      released: true,
      trialStopError: expect.stringMatching(
        /^the trial task of r-4 may still run: .*Rate exceeded/,
      ),
    });
    expect(ddb).toHaveReceivedCommand(DeleteCommand);
  });
});
