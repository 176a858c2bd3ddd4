import type { LedgerRecord } from '#commons/ledger.ts';
import { describeSource } from '#execution/source.ts';
import { UsageError } from './errors.ts';
import type { LedgerEntry } from './render/history.ts';

/** A ledger item as read from DynamoDB: the record shape, loosely (older items may lack fields). */
export type LedgerItem = Partial<LedgerRecord> & { readonly releaseId?: string };

function revisionOf(taskDefinitionArn?: string): string | undefined {
  // arn:aws:ecs:region:acct:task-definition/family:12 → family:12
  return taskDefinitionArn?.split('/').pop();
}

/** Converts a ledger record (AWS or local, same shape) to the neutral row `history` renders. */
export function toLedgerEntry(item: LedgerItem): LedgerEntry {
  const revision = revisionOf(item.taskDefinitionArn ?? item.rollbackTaskDefinitionArn);
  return {
    releaseId: item.releaseId ?? '?',
    outcome: item.outcome ?? 'UNKNOWN',
    ...(item.startedAt ? { startedAt: item.startedAt } : {}),
    ...(item.finishedAt ? { finishedAt: item.finishedAt } : {}),
    ...(item.source ? { source: describeSource({ source: item.source }) } : {}),
    ...(item.imageUri ? { imageDigest: item.imageUri } : {}),
    ...(revision ? { revision } : {}),
    ...(item.startedBy ? { startedBy: item.startedBy } : {}),
    ...(item.failure?.step ? { failedStep: item.failure.step } : {}),
    ...(item.failure ? { reason: `${item.failure.error}: ${item.failure.reason}` } : {}),
  };
}

/** The image a rollback releases again, and why it was chosen. */
export interface RollbackTarget {
  readonly imageUri: string;
  readonly releaseId: string | undefined;
  readonly why: string;
}

/**
 * Chooses what `rollback` releases. With `to`, that release's image. Otherwise the newest
 * SUCCEEDED release whose image differs from the one live now (the newest SUCCEEDED image:
 * a rolled-back release leaves that one live), which is the last known-good, not simply N-1.
 * Pure, so it is table-tested.
 */
export function chooseRollbackTarget(
  entries: readonly LedgerEntry[],
  to: string | undefined,
): RollbackTarget {
  const good = entries
    .filter((entry) => entry.outcome === 'SUCCEEDED' && entry.imageDigest)
    .sort((a, b) =>
      (b.finishedAt ?? b.startedAt ?? '').localeCompare(a.finishedAt ?? a.startedAt ?? ''),
    );
  if (to !== undefined) {
    const named = entries.find((entry) => entry.releaseId === to);
    if (!named) {
      throw new UsageError(
        `No release ${to} in the ledger.`,
        'Pick a release id from `stepdeploy history`, or pass --to <image uri@sha256:…>.',
      );
    }
    if (!named.imageDigest) {
      throw new UsageError(`Release ${to} recorded no image, so it cannot be released again.`);
    }
    if (named.outcome !== 'SUCCEEDED') {
      throw new UsageError(
        `Release ${to} ended ${named.outcome}; its image never passed health gating.`,
        'Pick a SUCCEEDED release from `stepdeploy history`.',
      );
    }
    return { imageUri: named.imageDigest, releaseId: named.releaseId, why: `release ${to}` };
  }
  const live = good[0];
  const target = good.find((entry) => entry.imageDigest !== live?.imageDigest);
  if (!live || !target?.imageDigest) {
    throw new UsageError(
      'The ledger holds no earlier successful release to roll back to.',
      'Name an image with --to <uri@sha256:…>, or see `stepdeploy history`.',
    );
  }
  return {
    imageUri: target.imageDigest,
    releaseId: target.releaseId,
    why: `last known-good before the live image: release ${target.releaseId} (${target.finishedAt ?? target.startedAt ?? '?'})`,
  };
}
