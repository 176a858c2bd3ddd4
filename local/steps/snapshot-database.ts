import { describeSnapshot, snapshotDatabase as dumpDatabase } from '../database.ts';
import type { Json } from '../runner.ts';
import type { StepContext } from './context.ts';

/** An RDS API error as the aws-sdk integration names it (`Rds.<Exception>`). */
export class RdsError extends Error {
  constructor(exception: string, message: string) {
    super(message);
    this.name = `Rds.${exception}`;
  }
}

type SnapshotJob =
  | { state: 'creating' }
  | { state: 'available' }
  | { state: 'failed'; message: string };

/** Snapshots being taken by this process, by id: CreateDBSnapshot returns before they finish. */
export const snapshotJobs = new Map<string, SnapshotJob>();
const running = new Set<Promise<unknown>>();

/** Resolves once every snapshot this process started has finished (so none is left half-written). */
export async function settleSnapshots(): Promise<void> {
  await Promise.allSettled([...running]);
}

interface CreateDbSnapshotInput {
  readonly DbInstanceIdentifier: string;
  readonly DbSnapshotIdentifier: string;
  readonly Tags?: readonly { Key: string; Value: string }[];
}

/**
 * SnapshotDatabase (`aws-sdk:rds:createDBSnapshot`): starts a consistent snapshot of the local
 * MariaDB container (dump and table manifest under one global read lock) and answers at once
 * with status `creating`, like RDS; CheckSnapshot polls it. An existing id is refused with
 * Rds.DbSnapshotAlreadyExistsException, which the ASL turns into polling.
 */
export function snapshotDatabase(ctx: StepContext) {
  return async (raw: Json): Promise<Json> => {
    const input = raw as unknown as CreateDbSnapshotInput;
    if (input.DbInstanceIdentifier !== ctx.database.container)
      throw new RdsError(
        'DbInstanceNotFoundFault',
        `DBInstance ${input.DbInstanceIdentifier} not found.`,
      );
    const id = input.DbSnapshotIdentifier;
    if (snapshotJobs.has(id) || (await describeSnapshot(ctx.config.stateDir, id)))
      throw new RdsError(
        'DbSnapshotAlreadyExistsException',
        `Cannot create the snapshot because a snapshot with the identifier ${id} already exists.`,
      );
    snapshotJobs.set(id, { state: 'creating' });
    const started = ctx.now();
    // Kept on the snapshot like RDS keeps them: PruneSnapshots selects release snapshots by tag.
    const tags = Object.fromEntries((input.Tags ?? []).map((t) => [t.Key, t.Value]));
    const job = dumpDatabase(ctx.database, id, tags).then(
      (meta) => {
        snapshotJobs.set(id, { state: 'available' });
        ctx.note(
          `SnapshotDatabase: ${id} available (${meta.tables.length} tables, ${meta.sizeBytes} bytes)`,
        );
      },
      (err: unknown) => {
        snapshotJobs.set(id, {
          state: 'failed',
          message: err instanceof Error ? err.message : String(err),
        });
      },
    );
    running.add(job);
    void job.finally(() => running.delete(job));
    return {
      DbSnapshot: {
        DbSnapshotIdentifier: id,
        DbInstanceIdentifier: input.DbInstanceIdentifier,
        SnapshotCreateTime: started.toISOString(),
        Engine: 'mariadb',
        Status: 'creating',
        SnapshotType: 'manual',
        TagList: (input.Tags ?? []).map((t) => ({ Key: t.Key, Value: t.Value })),
      },
    };
  };
}
