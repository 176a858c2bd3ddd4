import { describeSnapshot } from '../database.ts';
import type { Json } from '../runner.ts';
import type { StepContext } from './context.ts';
import { RdsError, snapshotJobs } from './snapshot-database.ts';

/**
 * CheckSnapshot (`aws-sdk:rds:describeDBSnapshots`): `available` once the snapshot's metadata
 * is written (it is written last), `creating` while this process still dumps it, `failed`
 * with the reason noted when the dump failed; an unknown id is DbSnapshotNotFound.
 */
export function checkSnapshot(ctx: StepContext) {
  return async (raw: Json): Promise<Json> => {
    const id = (raw as { DbSnapshotIdentifier?: string }).DbSnapshotIdentifier ?? '';
    const stored = await describeSnapshot(ctx.config.stateDir, id);
    const job = snapshotJobs.get(id);
    let status: string;
    if (stored) status = 'available';
    else if (job?.state === 'creating') status = 'creating';
    else if (job?.state === 'failed') {
      ctx.note(`CheckSnapshot: ${id} failed: ${job.message}`);
      status = 'failed';
    } else throw new RdsError('DbSnapshotNotFoundFault', `DBSnapshot ${id} not found.`);
    return {
      DbSnapshots: [
        {
          DbSnapshotIdentifier: id,
          DbInstanceIdentifier: ctx.database.container,
          Status: status,
          Engine: 'mariadb',
          SnapshotType: 'manual',
          ...(stored
            ? {
                SnapshotCreateTime: stored.createdAt,
                AllocatedStorage: Math.ceil(stored.sizeBytes / 2 ** 30),
              }
            : {}),
        },
      ],
    };
  };
}
