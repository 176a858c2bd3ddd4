/**
 * Which release snapshots PruneSnapshots deletes after a successful release: the pure decision
 * shared by the Lambda (RDS) and the local adapter (snapshot directories).
 */
import { NamedError } from './errors.ts';
import type { LedgerRecord } from './ledger.ts';

/** Tag every release snapshot carries (SnapshotDatabase sets it); the delete IAM is conditioned on it. */
export const SNAPSHOT_SERVICE_TAG = 'stepdeploy:service';
/** Tag naming the release a snapshot was taken for. */
export const SNAPSHOT_RELEASE_TAG = 'stepdeploy:release';

/** One manual snapshot as the store describes it. */
export interface SnapshotInfo {
  readonly id: string;
  /** ISO 8601; absent while RDS is still creating it. */
  readonly createdAt?: string;
  readonly status: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** How many release snapshots survive a prune. */
export interface RetentionPolicy {
  /** The newest release snapshots kept, the current release's included (at least 1). */
  readonly keepNewest: number;
  /** The last SUCCEEDED releases whose snapshots are kept as well, however old. */
  readonly keepKnownGood: number;
}

/** What the decision is asked. */
export interface RetentionQuestion {
  readonly service: string;
  /** Release snapshots are `<snapshotPrefix>-<releaseId>`. */
  readonly snapshotPrefix: string;
  /** The snapshot of the release that just succeeded: never deleted. */
  readonly currentSnapshotId?: string;
  /** Snapshot ids of the last known-good releases, newest first (see {@link knownGoodSnapshotIds}). */
  readonly knownGoodSnapshotIds: readonly string[];
  readonly policy: RetentionPolicy;
}

/** A kept snapshot and why. */
export interface KeptSnapshot {
  readonly id: string;
  readonly reason: string;
}

/** The decision: what to delete and what is kept (release snapshots of this service only). */
export interface RetentionDecision {
  readonly delete: string[];
  readonly keep: KeptSnapshot[];
}

/** What a PruneSnapshots event asks, the way {@link chooseSnapshotsToDelete} takes it. */
export interface PruneRequest {
  readonly service: string;
  readonly snapshotPrefix: string;
  readonly currentSnapshotId?: string | undefined;
  readonly keepNewest: number;
  readonly keepKnownGood: number;
}

/**
 * The retention question of a prune request, with the service's known-good releases read from
 * its ledger (AWS: DynamoDB; local: the ledger file). Pure.
 */
export function retentionQuestion(
  request: PruneRequest,
  goodReleases: readonly LedgerRecord[],
): RetentionQuestion {
  return {
    service: request.service,
    snapshotPrefix: request.snapshotPrefix,
    currentSnapshotId: request.currentSnapshotId,
    knownGoodSnapshotIds: knownGoodSnapshotIds(goodReleases, request.keepKnownGood),
    policy: { keepNewest: request.keepNewest, keepKnownGood: request.keepKnownGood },
  };
}

/**
 * Snapshots of the newest `count` SUCCEEDED releases, newest first. A ROLLED_BACK record is in
 * the good index too, but its snapshot belongs to the failed release, not to a good one.
 */
export function knownGoodSnapshotIds(records: readonly LedgerRecord[], count: number): string[] {
  return records
    .filter((r) => r.outcome === 'SUCCEEDED' && r.snapshotId !== undefined)
    .sort((a, b) => b.finishedAt.localeCompare(a.finishedAt))
    .slice(0, count)
    .map((r) => r.snapshotId as string);
}

/**
 * Release snapshots of this service to delete. Only snapshots named `<prefix>-…` AND tagged
 * with this service are considered (anything a person made, or another service's, is left
 * alone); the current one, any not `available` (RDS deletes only available snapshots) and
 * the known-good ones are kept; of the rest, the newest `keepNewest` (counting the kept ones
 * that are newest) survive.
 */
export function chooseSnapshotsToDelete(
  snapshots: readonly SnapshotInfo[],
  question: RetentionQuestion,
): RetentionDecision {
  const { policy } = question;
  const ours = snapshots
    .filter(
      (s) =>
        s.id.startsWith(`${question.snapshotPrefix}-`) &&
        s.tags[SNAPSHOT_SERVICE_TAG] === question.service,
    )
    // Newest first; one still being created has no time yet and counts as newest.
    .sort((a, b) => (b.createdAt ?? '\uffff').localeCompare(a.createdAt ?? '\uffff'));
  const knownGood = new Set(question.knownGoodSnapshotIds.slice(0, policy.keepKnownGood));
  const keep: KeptSnapshot[] = [];
  const remove: string[] = [];
  ours.forEach((s, rank) => {
    if (s.id === question.currentSnapshotId) keep.push({ id: s.id, reason: 'current release' });
    else if (rank < policy.keepNewest)
      keep.push({ id: s.id, reason: `among the newest ${policy.keepNewest}` });
    else if (knownGood.has(s.id)) keep.push({ id: s.id, reason: 'a last known-good release' });
    else if (s.status !== 'available') keep.push({ id: s.id, reason: `status ${s.status}` });
    else remove.push(s.id);
  });
  return { delete: remove, keep };
}

/** Some release snapshots could not be deleted; the message names each one and why. */
export class SnapshotPruneError extends NamedError {
  override readonly name = 'SnapshotPruneError';
}

/** The outcome of one deletion. */
export type DeleteOutcome =
  | { readonly id: string; readonly ok: true }
  | { readonly id: string; readonly ok: false; readonly error: string };

/**
 * The step's result once every deletion was tried: the deleted ids, or SnapshotPruneError
 * naming every failure (the ASL catches it: the release stays a success, the notification says).
 */
export function pruneResult(
  decision: RetentionDecision,
  outcomes: readonly DeleteOutcome[],
): { deleted: string[]; kept: KeptSnapshot[] } {
  const failed = outcomes.filter((o): o is Extract<DeleteOutcome, { ok: false }> => !o.ok);
  if (failed.length > 0) {
    throw new SnapshotPruneError(
      `could not delete ${failed.length} of ${outcomes.length} old release snapshot(s): ${failed
        .map((f) => `${f.id} (${f.error})`)
        .join('; ')}`,
    );
  }
  return { deleted: outcomes.map((o) => o.id), kept: decision.keep };
}
