import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from './context.ts';

vi.hoisted(() => {
  process.env.LOCK_TABLE_NAME = 'sd-lock';
  process.env.LOCK_LEASE_SECONDS = '7200';
  process.env.POWERTOOLS_DEV = 'true';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});

const { handler: acquire } = await import('#functions/acquire-lock/handler.ts');
const { handler: release } = await import('#functions/release-lock/handler.ts');
const ddb = mockClient(DynamoDBDocumentClient);
const conditionFailed = () =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: { httpStatusCode: 400 },
  });

describe('AcquireLock handler', () => {
  beforeEach(() => ddb.reset());

  it('writes the lock with a lease, conditional on free, expired or ours', async () => {
    // Prepare
    ddb.on(PutCommand).resolves({});
    // Act
    const out = await acquire(
      { service: 'sd', releaseId: 'r-2', startedBy: 'alice' },
      lambdaContext('AcquireLock'),
    );
    // Assess
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'sd-lock',
      ConditionExpression: 'attribute_not_exists(service) OR expiresAt < :now OR holder = :me',
    });
    const put = ddb.commandCalls(PutCommand)[0]?.args[0].input;
    expect(put?.Item?.holder).toBe('r-2');
    expect(
      (put?.Item?.expiresAt as number) - (put?.ExpressionAttributeValues?.[':now'] as number),
    ).toBe(7200);
    expect(out.holder).toBe('r-2');
  });

  it('refuses with LockHeldError naming the running release', async () => {
    // Prepare
    ddb.on(PutCommand).rejects(conditionFailed());
    ddb.on(GetCommand).resolves({
      Item: {
        service: 'sd',
        holder: 'r-1',
        startedBy: 'bob',
        acquiredAt: '2026-01-01T10:00:00.000Z',
        expiresAt: 1767268800,
      },
    });
    // Act
    const act = acquire(
      { service: 'sd', releaseId: 'r-2', startedBy: 'alice' },
      lambdaContext('AcquireLock'),
    );
    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'LockHeldError',
      message: expect.stringMatching(/locked by release r-1 started by bob/),
    });
    expect(ddb).toHaveReceivedCommandWith(GetCommand, {
      ConsistentRead: true,
      Key: { service: 'sd' },
    });
  });

  it('turns DynamoDB throttling into TransientAwsError for the ASL retry', async () => {
    // Prepare
    const throttled = Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
      name: 'ProvisionedThroughputExceededException',
      $metadata: { httpStatusCode: 400 },
    });
    ddb.on(PutCommand).rejects(throttled);
    // Act
    const act = acquire(
      { service: 'sd', releaseId: 'r-2', startedBy: 'alice' },
      lambdaContext('AcquireLock'),
    );
    // Assess
    await expect(act).rejects.toMatchObject({ name: 'TransientAwsError' });
  });

  it('refuses malformed input before touching DynamoDB', async () => {
    // Prepare / Act
    const act = acquire({ service: 'sd' } as never, lambdaContext('AcquireLock'));
    // Assess
    await expect(act).rejects.toMatchObject({ name: 'ParseError' });
    expect(ddb).not.toHaveReceivedAnyCommand();
  });
});

describe('ReleaseLock handler', () => {
  beforeEach(() => ddb.reset());

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
  });

  it("leaves another release's lock alone without failing", async () => {
    // Prepare
    ddb.on(DeleteCommand).rejects(conditionFailed());
    // Act
    const out = await release({ service: 'sd', releaseId: 'r-2' }, lambdaContext('ReleaseLock'));
    // Assess
    expect(out).toEqual({ released: false, reason: 'lock of sd is not held by r-2' });
  });
});
