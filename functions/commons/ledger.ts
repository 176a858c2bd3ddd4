import { NoKnownGoodError } from './errors.ts';
import type { SchemaChange, SchemaSummary } from './wordpress-schema.ts';

/** Outcomes a release can end with, as stored in the ledger. */
export type ReleaseOutcome = 'SUCCEEDED' | 'FAILED' | 'ROLLED_BACK' | 'DIRTY';

/** One release as stored in the release ledger (PK `service`, SK `releaseId`). */
export interface LedgerRecord {
  readonly service: string;
  readonly releaseId: string;
  readonly outcome: ReleaseOutcome;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly trigger: string;
  readonly startedBy: string;
  readonly source: Record<string, string>;
  readonly imageUri?: string;
  readonly taskDefinitionArn?: string;
  readonly previousTaskDefinitionArn?: string;
  readonly rollbackTaskDefinitionArn?: string;
  readonly snapshotId?: string;
  /** The nested restore verification of the pre-deploy snapshot: PASSED, FAILED (warn), OFF… */
  readonly backupVerification?: { readonly status: string; readonly summary?: string };
  readonly health?: unknown;
  readonly failure?: { readonly step: string; readonly error: string; readonly reason: string };
  readonly durationsMs?: Record<string, number>;
  /** What the release did to the database schema (CompareSchema), when its code ran. */
  readonly schema?: SchemaRecord;
}

/**
 * The schema a release found and the one it left, as the ledger keeps them: the db_versions and
 * table counts, and every table and column added or removed (the full schema it found is in
 * the manifest of `snapshotId`). `NO_BASELINE`: that manifest held no schema; `NOT_READ`:
 * CompareSchema failed, `reason` says why.
 */
export interface SchemaRecord {
  readonly status: 'READ' | 'NO_BASELINE' | 'NOT_READ';
  readonly snapshotId?: string;
  readonly before?: SchemaSummary;
  readonly after?: SchemaSummary;
  readonly change?: SchemaChange;
  readonly reason?: string;
}

/** The revision to roll back to and why it was chosen. */
export interface KnownGood {
  readonly taskDefinitionArn: string;
  readonly releaseId?: string;
  readonly reason: string;
}

/**
 * Picks the newest revision that passed health gating: the latest SUCCEEDED release whose
 * revision is not the failing one (not simply N-1, which may itself be a failed release). A
 * ROLLED_BACK release re-proved its rollback target healthy, so that target counts too. With
 * no such record (the first releases), falls back to the revision that ran before this release.
 */
export function chooseLastKnownGood(
  records: readonly LedgerRecord[],
  failedTaskDefinitionArn: string | undefined,
  fallbackTaskDefinitionArn: string | undefined,
): KnownGood | undefined {
  const candidates = records
    .flatMap((r) => {
      if (r.outcome === 'SUCCEEDED' && r.taskDefinitionArn)
        return [{ arn: r.taskDefinitionArn, r }];
      if (r.outcome === 'ROLLED_BACK' && r.rollbackTaskDefinitionArn)
        return [{ arn: r.rollbackTaskDefinitionArn, r }];
      return [];
    })
    .filter((c) => c.arn !== failedTaskDefinitionArn)
    .sort((a, b) => b.r.finishedAt.localeCompare(a.r.finishedAt));
  const best = candidates[0];
  if (best) {
    return {
      taskDefinitionArn: best.arn,
      releaseId: best.r.releaseId,
      reason: `last known-good from release ${best.r.releaseId} (${best.r.outcome.toLowerCase()} at ${best.r.finishedAt})`,
    };
  }
  if (fallbackTaskDefinitionArn && fallbackTaskDefinitionArn !== failedTaskDefinitionArn) {
    return {
      taskDefinitionArn: fallbackTaskDefinitionArn,
      reason: 'no good release in the ledger; the revision that ran before this release',
    };
  }
  return undefined;
}

/** Execution state fields RecordRelease reads (a subset of the release state machine's `$`). */
export interface ReleaseState {
  readonly release: {
    readonly releaseId: string;
    readonly trigger: string;
    readonly startedBy: string;
    readonly startedAt: string;
    readonly source: Record<string, string>;
    readonly target: { readonly service: string };
  };
  readonly outcome: {
    readonly status: string;
    readonly step?: string;
    readonly error?: string;
    readonly reason?: string;
  };
  readonly artifacts?: {
    readonly image?: { readonly uri?: string };
    readonly snapshot?: {
      readonly id?: string;
      readonly verification?: { readonly status: string; readonly summary?: string };
    };
  };
  readonly taskDef?: {
    readonly taskDefinitionArn?: string;
    readonly previousTaskDefinitionArn?: string;
  };
  readonly deploy?: { readonly health?: unknown };
  readonly knownGood?: { readonly taskDefinitionArn?: string };
  readonly rollback?: { readonly health?: unknown };
  /** CompareSchema's answer, or SchemaNotRead's (`note` is message text, not recorded). */
  readonly schema?: SchemaRecord & { readonly note?: string };
}

function schemaRecord(schema: ReleaseState['schema']): SchemaRecord | undefined {
  if (!schema) return undefined;
  return {
    status: schema.status,
    snapshotId: schema.snapshotId,
    before: schema.before,
    after: schema.after,
    change: schema.change,
    reason: schema.reason,
  };
}

const OUTCOMES: Record<string, ReleaseOutcome> = {
  SUCCEEDED: 'SUCCEEDED',
  FAILED: 'FAILED',
  ROLLED_BACK: 'ROLLED_BACK',
  DIRTY: 'DIRTY',
};

/**
 * The ledger item for a finished release, plus the sparse `goodAt` / `goodTaskDefinitionArn`
 * attributes (only on outcomes that proved a revision healthy) that the last-known-good index
 * is built on. Picks fields explicitly so nothing else from the execution state is stored.
 */
export function buildLedgerRecord(
  state: ReleaseState,
  durationsMs: Record<string, number> | undefined,
  now: Date,
): LedgerRecord & { goodAt?: string; goodTaskDefinitionArn?: string } {
  const outcome = OUTCOMES[state.outcome.status];
  if (!outcome) throw new Error(`unknown outcome ${state.outcome.status}`);
  const finishedAt = now.toISOString();
  const good =
    outcome === 'SUCCEEDED'
      ? state.taskDef?.taskDefinitionArn
      : outcome === 'ROLLED_BACK'
        ? state.knownGood?.taskDefinitionArn
        : undefined;
  return {
    service: state.release.target.service,
    releaseId: state.release.releaseId,
    outcome,
    startedAt: state.release.startedAt,
    finishedAt,
    trigger: state.release.trigger,
    startedBy: state.release.startedBy,
    source: state.release.source,
    imageUri: state.artifacts?.image?.uri,
    snapshotId: state.artifacts?.snapshot?.id,
    backupVerification: state.artifacts?.snapshot?.verification
      ? {
          status: state.artifacts.snapshot.verification.status,
          summary: state.artifacts.snapshot.verification.summary,
        }
      : undefined,
    taskDefinitionArn: state.taskDef?.taskDefinitionArn,
    previousTaskDefinitionArn: state.taskDef?.previousTaskDefinitionArn,
    rollbackTaskDefinitionArn:
      outcome === 'SUCCEEDED' ? undefined : state.knownGood?.taskDefinitionArn,
    health: { deploy: state.deploy?.health, rollback: state.rollback?.health },
    failure:
      outcome === 'SUCCEEDED'
        ? undefined
        : {
            step: state.outcome.step ?? 'unknown',
            error: state.outcome.error ?? 'unknown',
            reason: state.outcome.reason ?? '',
          },
    durationsMs,
    schema: schemaRecord(state.schema),
    ...(good ? { goodAt: finishedAt, goodTaskDefinitionArn: good } : {}),
  };
}

/** What FindLastKnownGood is asked: the service, this release, and the revisions involved. */
export interface RollbackQuestion {
  readonly service: string;
  readonly releaseId: string;
  readonly failedTaskDefinitionArn: string;
  readonly previousTaskDefinitionArn?: string;
}

/**
 * The rollback target among the newest good releases of the service (this release excluded),
 * or NoKnownGoodError naming the service: the one decision the Lambda and the local adapter
 * share, whatever store the records came from.
 */
export function rollbackTarget(
  good: readonly LedgerRecord[],
  question: RollbackQuestion,
): KnownGood {
  const choice = chooseLastKnownGood(
    good.filter((r) => r.releaseId !== question.releaseId),
    question.failedTaskDefinitionArn,
    question.previousTaskDefinitionArn,
  );
  if (!choice) {
    throw new NoKnownGoodError(
      `no revision of ${question.service} other than ${question.failedTaskDefinitionArn} is known to be healthy`,
    );
  }
  return choice;
}
