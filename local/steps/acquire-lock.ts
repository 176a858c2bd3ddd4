import { LockHeldError, LockWaitTimeoutError, ReleaseSupersededError } from '#commons/errors.ts';
import {
  describeHolder,
  describeSuperseded,
  enqueue,
  type LockClaim,
  type LockItem,
  lockWaitExpired,
  newLock,
  type QueueItem,
  queueKey,
} from '#commons/lock.ts';
import { acquireLockSchema } from '#functions/acquire-lock/schema.ts';
import type { Json } from '../runner.ts';
import type { StepContext } from './context.ts';

/**
 * AcquireLock: the same two writes as the Lambda on the local file-backed table. First the
 * release records itself as the newest claim in the queue item (ReleaseSupersededError when a
 * newer release already did), then, in one transaction that checks it is still the newest,
 * takes the lock when it is free, expired or already its own; LockHeldError names the holder.
 */
export function acquireLock(ctx: StepContext) {
  return async (raw: Json): Promise<Json> => {
    const event = acquireLockSchema.parse(raw);
    const now = ctx.now();
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const claim: LockClaim = {
      releaseId: event.releaseId,
      startedAt: event.startedAt,
      startedBy: event.startedBy,
    };
    const queueId = { service: queueKey(event.service) };
    await ctx.locks.update(queueId, (current) => {
      const queue = current as unknown as QueueItem | undefined;
      const next = enqueue(queue, event.service, claim, nowSeconds + ctx.lockLeaseSeconds);
      if (!next) throw new ReleaseSupersededError(describeSuperseded(claim, queue));
      return next as unknown as LockItem & Record<string, unknown>;
    });
    const item = newLock(
      event.service,
      event.releaseId,
      event.startedBy,
      now,
      ctx.lockLeaseSeconds,
    );
    const taken = await ctx.locks.transact((table) => {
      const queue = table.get(queueId) as unknown as QueueItem | undefined;
      if (queue?.newest !== event.releaseId) return { superseded: queue };
      const held = table.get({ service: event.service });
      if (held && held.expiresAt >= nowSeconds && held.holder !== event.releaseId)
        return { held: held as LockItem };
      table.put({ ...item });
      return {};
    });
    if ('superseded' in taken)
      throw new ReleaseSupersededError(describeSuperseded(claim, taken.superseded));
    if ('held' in taken) {
      const holder = describeHolder(event.service, taken.held);
      if (lockWaitExpired(event.startedAt, now, ctx.lockLeaseSeconds))
        throw new LockWaitTimeoutError(
          `waited longer than the lock's lease (${ctx.lockLeaseSeconds} s) and ${holder}`,
        );
      throw new LockHeldError(`${holder}; waiting as the newest release`);
    }
    return { holder: item.holder, expiresAt: new Date(item.expiresAt * 1000).toISOString() };
  };
}
