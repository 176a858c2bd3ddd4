import { LockHeldError } from '#commons/errors.ts';
import { describeHolder, type LockItem, newLock } from '#commons/lock.ts';
import { acquireLockSchema } from '#functions/acquire-lock/schema.ts';
import type { Json } from '../runner.ts';
import { ConditionalCheckFailedError } from '../table.ts';
import type { StepContext } from './context.ts';

/**
 * AcquireLock: the same lock item and condition as the DynamoDB write (free, expired, or
 * already ours so a retry succeeds) on the local file-backed table; LockHeldError names the holder.
 */
export function acquireLock(ctx: StepContext) {
  return async (raw: Json): Promise<Json> => {
    const event = acquireLockSchema.parse(raw);
    const now = ctx.now();
    const item = newLock(
      event.service,
      event.releaseId,
      event.startedBy,
      now,
      ctx.lockLeaseSeconds,
    );
    const nowSeconds = Math.floor(now.getTime() / 1000);
    try {
      await ctx.locks.put(
        { ...item },
        (cur) => cur === undefined || cur.expiresAt < nowSeconds || cur.holder === event.releaseId,
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedError)) throw error;
      const held = await ctx.locks.get({ service: event.service });
      throw new LockHeldError(describeHolder(event.service, held as LockItem | undefined), {
        cause: error,
      });
    }
    return { holder: item.holder, expiresAt: new Date(item.expiresAt * 1000).toISOString() };
  };
}
