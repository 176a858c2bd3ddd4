import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoClient } from '#commons/clients/dynamodb.ts';
import { classifyAws, ReleaseSupersededError, TransientAwsError } from '#commons/errors.ts';
import {
  describeSuperseded,
  enqueue,
  type LockClaim,
  type LockItem,
  lockHeldError,
  newLock,
  type QueueItem,
  queueKey,
} from '#commons/lock.ts';
import type { AcquireLockEvent } from './schema.ts';

/** Where the lock lives and how long a lease lasts. */
export interface LockConfig {
  readonly tableName: string;
  readonly leaseSeconds: number;
}

/** Attempts at becoming the newest claim when other releases write the queue meanwhile. */
const QUEUE_ATTEMPTS = 5;

/**
 * Takes the service lock, newest release first. The release first records itself as the
 * newest claim in the queue item (unless a newer release already did: ReleaseSupersededError),
 * then, in one transaction that checks it is still the newest, writes the lock: free, expired,
 * or already its own (so a Step Functions retry of this step succeeds). A lock held by another
 * release throws LockHeldError naming the holder; the state machine waits and asks again.
 */
export async function acquireLock(event: AcquireLockEvent, config: LockConfig, now = new Date()) {
  const claim: LockClaim = {
    releaseId: event.releaseId,
    startedAt: event.startedAt,
    startedBy: event.startedBy,
  };
  const nowSeconds = Math.floor(now.getTime() / 1000);
  await claimNewest(event.service, claim, config, nowSeconds);
  const item = newLock(event.service, event.releaseId, event.startedBy, now, config.leaseSeconds);
  try {
    await classifyAws('TransactWriteItems lock', () =>
      dynamoClient.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: config.tableName,
                Key: { service: queueKey(event.service) },
                ConditionExpression: 'newest = :me',
                ExpressionAttributeValues: { ':me': event.releaseId },
              },
            },
            {
              Put: {
                TableName: config.tableName,
                Item: item,
                ConditionExpression:
                  'attribute_not_exists(service) OR expiresAt < :now OR holder = :me',
                ExpressionAttributeValues: { ':now': nowSeconds, ':me': event.releaseId },
              },
            },
          ],
        }),
      ),
    );
  } catch (error) {
    if (!(error instanceof TransactionCanceledException)) throw error;
    const [queueCheck, lockPut] = error.CancellationReasons ?? [];
    if ([queueCheck, lockPut].some((r) => r?.Code === 'TransactionConflict'))
      throw new TransientAwsError(`TransactWriteItems lock: ${error.message}`, { cause: error });
    if (queueCheck?.Code === 'ConditionalCheckFailed')
      throw new ReleaseSupersededError(
        describeSuperseded(claim, await readQueue(event.service, config)),
        { cause: error },
      );
    if (lockPut?.Code !== 'ConditionalCheckFailed') throw error;
    const held = await classifyAws('GetItem lock', () =>
      dynamoClient.send(
        new GetCommand({
          TableName: config.tableName,
          Key: { service: event.service },
          ConsistentRead: true,
        }),
      ),
    );
    throw lockHeldError(
      claim,
      event.service,
      held.Item as LockItem | undefined,
      now,
      config.leaseSeconds,
      { cause: error },
    );
  }
  return { holder: item.holder, expiresAt: new Date(item.expiresAt * 1000).toISOString() };
}

async function readQueue(service: string, config: LockConfig): Promise<QueueItem | undefined> {
  const got = await classifyAws('GetItem queue', () =>
    dynamoClient.send(
      new GetCommand({
        TableName: config.tableName,
        Key: { service: queueKey(service) },
        ConsistentRead: true,
      }),
    ),
  );
  return got.Item as QueueItem | undefined;
}

/** Records the claim as the service's newest (optimistically: the queue item as read). */
async function claimNewest(
  service: string,
  claim: LockClaim,
  config: LockConfig,
  nowSeconds: number,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const queue = await readQueue(service, config);
    const next = enqueue(queue, service, claim, nowSeconds + config.leaseSeconds);
    if (!next) throw new ReleaseSupersededError(describeSuperseded(claim, queue));
    try {
      await classifyAws('PutItem queue', () =>
        dynamoClient.send(
          new PutCommand({
            TableName: config.tableName,
            Item: next,
            ...(queue
              ? {
                  ConditionExpression: 'newest = :newest AND newestStartedAt = :at',
                  ExpressionAttributeValues: {
                    ':newest': queue.newest,
                    ':at': queue.newestStartedAt,
                  },
                }
              : { ConditionExpression: 'attribute_not_exists(service)' }),
          }),
        ),
      );
      return;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException) || attempt >= QUEUE_ATTEMPTS)
        throw error;
    }
  }
}
