import {
  chooseSnapshotsToDelete,
  type DeleteOutcome,
  pruneResult,
  retentionQuestion,
} from '#commons/snapshot-retention.ts';
import { defineStep } from '#commons/step.ts';
import { pruneSnapshotsSchema } from '#functions/prune-snapshots/schema.ts';
import { deleteSnapshot, listSnapshots } from '../database.ts';
import type { StepContext } from './context.ts';
import { localStep } from './local-step.ts';

/**
 * PruneSnapshots: the local "RDS" manual snapshots are the directories under
 * `<stateDir>/snapshots/` (their metadata keeps the CreateDBSnapshot tags), the known-good
 * releases come from the local ledger; the shared pure function chooses, as on AWS.
 */
export function pruneSnapshots(ctx: StepContext) {
  return localStep(
    defineStep(pruneSnapshotsSchema, async (event) => {
      const snapshots = (await listSnapshots(ctx.config.stateDir))
        .filter((m) => m.source.container === event.dbInstanceIdentifier)
        .map((m) => ({
          id: m.id,
          createdAt: m.createdAt,
          status: 'available',
          tags: m.tags ?? {},
        }));
      const good = await ctx.ledger.query(event.service, { filter: (r) => r.goodAt !== undefined });
      const decision = chooseSnapshotsToDelete(snapshots, retentionQuestion(event, good));
      const outcomes: DeleteOutcome[] = [];
      for (const id of decision.delete) {
        try {
          await deleteSnapshot(ctx.config.stateDir, id);
          outcomes.push({ id, ok: true });
        } catch (error) {
          outcomes.push({
            id,
            ok: false,
            error: error instanceof Error ? error.message : String(error),
          });
        }
      }
      const out = pruneResult(decision, outcomes);
      if (out.deleted.length > 0) ctx.note(`PruneSnapshots: deleted ${out.deleted.join(', ')}`);
      return out;
    }),
  );
}
