import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoClient } from '#commons/clients/dynamodb.ts';
import { classifyAws } from '#commons/errors.ts';
import type { ReleaseLockEvent } from './schema.ts';

/**
 * Deletes the lock only when this release holds it; a lock held by another release (or
 * already gone, e.g. on a retry) is left alone and reported, never an error. With
 * `acquiredBefore` (ISO), only a lock taken no later than that instant: one the same release
 * id took again afterwards (a new execution) is left alone too.
 */
export async function releaseLock(
  event: ReleaseLockEvent,
  tableName: string,
  opts: { readonly acquiredBefore?: string } = {},
) {
  try {
    await classifyAws('DeleteItem lock', () =>
      dynamoClient.send(
        new DeleteCommand({
          TableName: tableName,
          Key: { service: event.service },
          ConditionExpression: opts.acquiredBefore
            ? 'holder = :me AND acquiredAt <= :before'
            : 'holder = :me',
          ExpressionAttributeValues: {
            ':me': event.releaseId,
            ...(opts.acquiredBefore ? { ':before': opts.acquiredBefore } : {}),
          },
        }),
      ),
    );
    return { released: true };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    return {
      released: false,
      reason: `lock of ${event.service} is not held by ${event.releaseId}`,
    };
  }
}
