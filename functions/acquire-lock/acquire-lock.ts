import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoClient } from '#commons/clients/dynamodb.ts';
import { classifyAws, LockHeldError } from '#commons/errors.ts';
import { describeHolder, type LockItem, newLock } from '#commons/lock.ts';
import type { AcquireLockEvent } from './schema.ts';

/** Where the lock lives and how long a lease lasts. */
export interface LockConfig {
  readonly tableName: string;
  readonly leaseSeconds: number;
}

/**
 * Takes the service lock with a conditional write: free, expired, or already ours (so a
 * Step Functions retry of this step succeeds). Otherwise throws LockHeldError naming the holder.
 */
export async function acquireLock(event: AcquireLockEvent, config: LockConfig, now = new Date()) {
  const item = newLock(event.service, event.releaseId, event.startedBy, now, config.leaseSeconds);
  try {
    await classifyAws('PutItem lock', () =>
      dynamoClient.send(
        new PutCommand({
          TableName: config.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(service) OR expiresAt < :now OR holder = :me',
          ExpressionAttributeValues: {
            ':now': Math.floor(now.getTime() / 1000),
            ':me': event.releaseId,
          },
        }),
      ),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const held = await classifyAws('GetItem lock', () =>
      dynamoClient.send(
        new GetCommand({
          TableName: config.tableName,
          Key: { service: event.service },
          ConsistentRead: true,
        }),
      ),
    );
    throw new LockHeldError(describeHolder(event.service, held.Item as LockItem | undefined), {
      cause: error,
    });
  }
  return { holder: item.holder, expiresAt: new Date(item.expiresAt * 1000).toISOString() };
}
