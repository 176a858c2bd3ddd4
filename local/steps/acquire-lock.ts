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
import { defineStep } from '#commons/step.ts';
import { acquireLockSchema } from '#functions/acquire-lock/schema.ts';
import { holderGone, thisProcess } from '../lock-holder.ts';
import type { StepContext } from './context.ts';
import { localStep } from './local-step.ts';

/**
 * AcquireLock: the same two writes as the Lambda on the local file-backed table. First the
 * release records itself as the newest claim in the queue item (ReleaseSupersededError when a
 * newer release already did), then, in one transaction that checks it is still the newest,
 * takes the lock when it is free, expired or already its own; LockHeldError names the holder.
 * Locally the lock also records the process running the execution: a lock whose process is
 * gone (the release was interrupted) is free, as an expired one is (local/lock-holder.ts).
 */
export function acquireLock(ctx: StepContext) {
  return localStep(
    defineStep(acquireLockSchema, async (event) => {
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
      const holder = thisProcess();
      const taken = await ctx.locks.transact((table) => {
        const queue = table.get(queueId) as unknown as QueueItem | undefined;
        if (queue?.newest !== event.releaseId) return { superseded: queue };
        const held = table.get({ service: event.service });
        const interrupted = held && held.holder !== event.releaseId && holderGone(held);
        if (held && held.expiresAt >= nowSeconds && held.holder !== event.releaseId && !interrupted)
          return { held: held as LockItem };
        table.put({ ...item, holderPid: holder.pid, holderHost: holder.host });
        return interrupted ? { tookOver: held as LockItem } : {};
      });
      if ('tookOver' in taken && taken.tookOver)
        ctx.note(
          `AcquireLock: took over the lock of release ${taken.tookOver.holder}, whose stepdeploy process (pid ${String((taken.tookOver as { holderPid?: number }).holderPid)}) is gone: it was interrupted`,
        );
      if ('superseded' in taken)
        throw new ReleaseSupersededError(describeSuperseded(claim, taken.superseded));
      if ('held' in taken && taken.held) {
        const described = describeHolder(event.service, taken.held);
        if (lockWaitExpired(event.startedAt, now, ctx.lockLeaseSeconds))
          throw new LockWaitTimeoutError(
            `waited longer than the lock's lease (${ctx.lockLeaseSeconds} s) and ${described}`,
          );
        throw new LockHeldError(`${described}; waiting as the newest release`);
      }
      return { holder: item.holder, expiresAt: new Date(item.expiresAt * 1000).toISOString() };
    }),
  );
}
