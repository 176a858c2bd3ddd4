import { LockHeldError, LockWaitTimeoutError } from '#commons/errors.ts';

/** The lock item in the lock table (PK `service`); `expiresAt` (epoch seconds) is also the TTL. */
export interface LockItem {
  readonly service: string;
  readonly holder: string;
  readonly startedBy?: string;
  readonly acquiredAt?: string;
  readonly expiresAt: number;
}

/** The lock item a release writes, with its lease. */
export function newLock(
  service: string,
  releaseId: string,
  startedBy: string,
  now: Date,
  leaseSeconds: number,
): LockItem {
  return {
    service,
    holder: releaseId,
    startedBy,
    acquiredAt: now.toISOString(),
    expiresAt: Math.floor(now.getTime() / 1000) + leaseSeconds,
  };
}

/** A refusal naming the release that holds the lock, for the person who was refused. */
export function describeHolder(service: string, held: LockItem | undefined): string {
  if (!held)
    return `service ${service} is locked by another release (the lock changed while checking)`;
  return `service ${service} is locked by release ${held.holder}${held.startedBy ? ` started by ${held.startedBy}` : ''}${
    held.acquiredAt ? ` at ${held.acquiredAt}` : ''
  }; lease until ${new Date(held.expiresAt * 1000).toISOString()}`;
}

/**
 * The service's release queue, an item beside the lock (PK `<service>#queue`): the newest
 * release that asked for the service. A release waiting for the lock runs only while it is
 * the newest; an older one waiting is superseded. The item stays after that release takes the
 * lock, so an older release that polls later still sees it was superseded.
 */
export interface QueueItem {
  readonly service: string;
  readonly newest: string;
  readonly newestStartedAt: string;
  readonly startedBy?: string;
  /** Epoch seconds (the table's TTL): a queue nobody asked for within a lease is dropped. */
  readonly expiresAt: number;
}

/** The key of a service's queue item in the lock table. Pure. */
export function queueKey(service: string): string {
  return `${service}#queue`;
}

/** A release asking for the service: its id and when its execution started (ISO). */
export interface LockClaim {
  readonly releaseId: string;
  readonly startedAt: string;
  readonly startedBy: string;
}

/** Whether `a` is newer than `b`: started later, or at the same instant with the larger id. Pure. */
export function isNewerClaim(
  a: Pick<LockClaim, 'releaseId' | 'startedAt'>,
  b: Pick<LockClaim, 'releaseId' | 'startedAt'>,
): boolean {
  const at = Date.parse(a.startedAt);
  const bt = Date.parse(b.startedAt);
  return at !== bt ? at > bt : a.releaseId > b.releaseId;
}

/** The queue item once `claim` asked, or undefined when a newer release already did. Pure. */
export function enqueue(
  queue: QueueItem | undefined,
  service: string,
  claim: LockClaim,
  expiresAt: number,
): QueueItem | undefined {
  if (
    queue &&
    queue.newest !== claim.releaseId &&
    !isNewerClaim(
      { releaseId: claim.releaseId, startedAt: claim.startedAt },
      { releaseId: queue.newest, startedAt: queue.newestStartedAt },
    )
  )
    return undefined;
  return {
    service: queueKey(service),
    newest: claim.releaseId,
    newestStartedAt: claim.startedAt,
    startedBy: claim.startedBy,
    expiresAt,
  };
}

/** The message of a release that a newer one superseded. Pure. */
export function describeSuperseded(claim: LockClaim, queue: QueueItem | undefined): string {
  return queue
    ? `superseded by release ${queue.newest}${queue.startedBy ? ` started by ${queue.startedBy}` : ''} at ${queue.newestStartedAt}, which asked for the service after this one (started ${claim.startedAt}); the newest release is the one built`
    : `superseded by a newer release of the service`;
}

/**
 * Whether a release has waited for the lock longer than a lease: the holder's lease would have
 * expired by then, so a lock still held is taken by another release each time. Pure.
 */
export function lockWaitExpired(startedAt: string, now: Date, leaseSeconds: number): boolean {
  return now.getTime() - Date.parse(startedAt) > leaseSeconds * 1000;
}

/**
 * The error for a release that found the lock held by another: LockWaitTimeoutError once it
 * has waited longer than a lease, LockHeldError (the state machine waits and asks again)
 * before. Both name the holder. Pure.
 */
export function lockHeldError(
  claim: Pick<LockClaim, 'startedAt'>,
  service: string,
  held: LockItem | undefined,
  now: Date,
  leaseSeconds: number,
  options?: ErrorOptions,
): LockHeldError | LockWaitTimeoutError {
  const holder = describeHolder(service, held);
  return lockWaitExpired(claim.startedAt, now, leaseSeconds)
    ? new LockWaitTimeoutError(
        `waited longer than the lock's lease (${leaseSeconds} s) and ${holder}`,
        options,
      )
    : new LockHeldError(`${holder}; waiting as the newest release`, options);
}

/** What `status` shows of the lock: the release running, and the newest one waiting for it. */
export interface ReleaseQueueView {
  readonly running: {
    readonly releaseId: string;
    readonly startedBy?: string;
    readonly since?: string;
    readonly leaseUntil: string;
  } | null;
  readonly waiting: {
    readonly releaseId: string;
    readonly startedBy?: string;
    readonly startedAt: string;
  } | null;
}

/**
 * The release holding the lock (an expired lease holds nothing) and the newest release waiting
 * behind it: the queue's newest claim while another release runs. Pure.
 */
export function releaseQueueView(
  lock: LockItem | undefined,
  queue: QueueItem | undefined,
  now: Date,
): ReleaseQueueView {
  const running = lock && lock.expiresAt * 1000 >= now.getTime() ? lock : undefined;
  return {
    running: running
      ? {
          releaseId: running.holder,
          ...(running.startedBy ? { startedBy: running.startedBy } : {}),
          ...(running.acquiredAt ? { since: running.acquiredAt } : {}),
          leaseUntil: new Date(running.expiresAt * 1000).toISOString(),
        }
      : null,
    waiting:
      running && queue && queue.newest !== running.holder
        ? {
            releaseId: queue.newest,
            ...(queue.startedBy ? { startedBy: queue.startedBy } : {}),
            startedAt: queue.newestStartedAt,
          }
        : null,
  };
}
