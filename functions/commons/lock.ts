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
