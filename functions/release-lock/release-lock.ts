import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { ECSClient } from '@aws-sdk/client-ecs';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoClient } from '#commons/clients/dynamodb.ts';
import { classifyAws } from '#commons/errors.ts';
import { stopReleaseTrials } from '#commons/trial-tasks.ts';
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

/**
 * ReleaseLock at the end of every release: frees the lock, then stops a trial task of this
 * release still running (one StopTrial could not stop), so no trial outlives its release. The
 * lock goes first and a failure to stop is reported, never thrown: a retry must not keep the
 * lock, and the trial serves no one.
 */
export async function endRelease(
  event: ReleaseLockEvent,
  deps: { readonly tableName: string; readonly ecs: ECSClient; readonly cluster: string },
) {
  const unlocked = await releaseLock(event, deps.tableName);
  try {
    const stopped = await classifyAws('ListTasks/StopTask trial', () =>
      stopReleaseTrials(
        deps.ecs,
        deps.cluster,
        event.releaseId,
        `stepdeploy: release ${event.releaseId} ended with its trial task running`,
      ),
    );
    return stopped.length ? { ...unlocked, trialsStopped: stopped } : unlocked;
  } catch (error) {
    return {
      ...unlocked,
      trialStopError: `the trial task of ${event.releaseId} may still run: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}
