/** The sweeper: deletes scratch instances whose expiry tag has passed, in case a run died. */

import {
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { NamedError } from '#commons/errors.ts';
import { logger } from '#commons/powertools.ts';
import { expiredScratch, type ScratchCandidate } from '#commons/verify-scratch.ts';
import type { SweepScratchInstancesOutput } from './schema.ts';

/** Lists instances with their tags (RDS returns TagList in DescribeDBInstances). */
export async function listCandidates(rds: RDSClient): Promise<ScratchCandidate[]> {
  const out: ScratchCandidate[] = [];
  let marker: string | undefined;
  do {
    const page = await rds.send(new DescribeDBInstancesCommand({ Marker: marker }));
    for (const db of page.DBInstances ?? []) {
      out.push({
        id: db.DBInstanceIdentifier ?? '',
        status: db.DBInstanceStatus ?? 'unknown',
        tags: Object.fromEntries((db.TagList ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
      });
    }
    marker = page.Marker;
  } while (marker);
  return out;
}

/** One sweep found scratch instances it could not delete; the message names each and why. */
export class ScratchSweepError extends NamedError {
  override readonly name = 'ScratchSweepError';
}

/** How one DeleteDBInstance ended: `error` is undefined when the call succeeded. */
export interface DeleteAttempt {
  readonly id: string;
  readonly error?: unknown;
}

/**
 * The sweep's report from every attempt (pure): a success, or an instance already gone
 * (DBInstanceNotFoundFault), counts as deleted; any other error is a failure named with its
 * error, and never stops the other deletions.
 */
export function sweepReport(
  attempts: readonly DeleteAttempt[],
  unparseable: readonly string[],
): SweepScratchInstancesOutput {
  const deleted: string[] = [];
  const failed: SweepScratchInstancesOutput['failed'] = [];
  for (const { id, error } of attempts) {
    if (error === undefined || (error instanceof Error && error.name === 'DBInstanceNotFoundFault'))
      deleted.push(id);
    else
      failed.push({
        id,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
  }
  return { deleted, failed, unparseable: [...unparseable] };
}

/** One sweep: tries every expired scratch instance, then reports them all. */
export async function sweep(rds: RDSClient, now: Date): Promise<SweepScratchInstancesOutput> {
  const { expired, unparseable } = expiredScratch(await listCandidates(rds), now);
  const attempts: DeleteAttempt[] = [];
  for (const id of expired) {
    try {
      await rds.send(
        new DeleteDBInstanceCommand({
          DBInstanceIdentifier: id,
          SkipFinalSnapshot: true,
          DeleteAutomatedBackups: true,
        }),
      );
      attempts.push({ id });
    } catch (error) {
      attempts.push({ id, error });
    }
  }
  return sweepReport(attempts, unparseable);
}

/**
 * The scheduled run's verdict: the report, or ScratchSweepError naming every failure (so the
 * invocation counts as failed, the scheduler retries and the Lambda Errors metric shows it).
 */
export function sweepVerdict(report: SweepScratchInstancesOutput): SweepScratchInstancesOutput {
  if (report.failed.length > 0) {
    throw new ScratchSweepError(
      `could not delete ${report.failed.length} expired scratch instance(s): ${report.failed
        .map((f) => `${f.id} (${f.error})`)
        .join('; ')}; deleted ${report.deleted.length}`,
    );
  }
  return report;
}

/**
 * The scheduled step: one sweep, logged (instances without a parseable expiry as a warning,
 * failed deletions as an error), then its verdict.
 */
export async function sweepScratchInstances(
  rds: RDSClient,
  now: Date,
): Promise<SweepScratchInstancesOutput> {
  const out = await sweep(rds, now);
  if (out.unparseable.length > 0) {
    logger.warn('scratch instances without a parseable expiry tag left alone', {
      instances: out.unparseable,
    });
  }
  if (out.failed.length > 0) {
    logger.error('scratch instances not deleted', { failed: out.failed, deleted: out.deleted });
  } else {
    logger.info('scratch sweep done', { deleted: out.deleted });
  }
  return sweepVerdict(out);
}
