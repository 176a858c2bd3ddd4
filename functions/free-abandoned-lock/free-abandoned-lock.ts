import { releaseIdFrom } from '#functions/validate-input/validate-input.ts';
import type { FreeAbandonedLockEvent } from './schema.ts';

/**
 * Statuses after which a release may still hold the lock. A stopped or timed-out execution
 * ends where it stands, so its ReleaseLock never runs and the lock would block every later
 * release until its lease ends; a FAILED one normally freed it on the way (the ASL routes
 * every caught failure through ReleaseLock), but not when the failure was uncaught
 * (States.Runtime). The delete is conditional, so an execution that did free it changes
 * nothing.
 */
export const ABANDONING_STATUSES = ['ABORTED', 'TIMED_OUT', 'FAILED'] as const;

/**
 * The release an ended execution may still hold the lock for: the id ValidateInput gives it
 * (the input's `releaseId`, else one derived from the execution name) and when the execution
 * stopped (a lock taken after that belongs to a later execution), or undefined when it
 * succeeded. Pure.
 */
export function abandonedRelease(
  detail: FreeAbandonedLockEvent['detail'],
): { readonly releaseId: string; readonly stoppedAt?: string } | undefined {
  if (!(ABANDONING_STATUSES as readonly string[]).includes(detail.status)) return undefined;
  let asked: unknown;
  try {
    asked = detail.input
      ? (JSON.parse(detail.input) as { releaseId?: unknown } | null)?.releaseId
      : undefined;
  } catch {
    asked = undefined;
  }
  return {
    releaseId: typeof asked === 'string' && asked.length > 0 ? asked : releaseIdFrom(detail.name),
    ...(typeof detail.stopDate === 'number'
      ? { stoppedAt: new Date(detail.stopDate).toISOString() }
      : {}),
  };
}
