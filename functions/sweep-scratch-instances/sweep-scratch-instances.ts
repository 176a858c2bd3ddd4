/** The sweeper: deletes scratch instances whose expiry tag has passed, in case a run died. */
import {
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { expiredScratch, type ScratchCandidate } from '#commons/verify-scratch.ts';
import type { SweepOutput } from './schema.ts';

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

/** One sweep; an instance already gone counts as deleted. */
export async function sweep(rds: RDSClient, now: Date): Promise<SweepOutput> {
  const { expired, unparseable } = expiredScratch(await listCandidates(rds), now);
  const deleted: string[] = [];
  for (const id of expired) {
    try {
      await rds.send(
        new DeleteDBInstanceCommand({
          DBInstanceIdentifier: id,
          SkipFinalSnapshot: true,
          DeleteAutomatedBackups: true,
        }),
      );
    } catch (error) {
      if (!(error instanceof Error && error.name === 'DBInstanceNotFoundFault')) throw error;
    }
    deleted.push(id);
  }
  return { deleted, unparseable };
}
