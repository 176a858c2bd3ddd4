import { join } from 'node:path';
import { defineStep } from '#commons/step.ts';
import {
  RecordSnapshotManifestInputSchema,
  type RecordSnapshotManifestOutput,
  RecordSnapshotManifestOutputSchema,
} from '#functions/record-snapshot-manifest/schema.ts';
import { describeSnapshot } from '../database.ts';
import type { StepContext } from './context.ts';
import { localStep } from './local-step.ts';

/** Where a local snapshot's manifest lives: its metadata.json (local/database.ts). Pure. */
export function localManifestPath(stateDir: string, snapshotId: string): string {
  return join(stateDir, 'snapshots', snapshotId, 'metadata.json');
}

/**
 * RecordSnapshotManifest, locally. The local snapshot already records its manifest itself,
 * under the same global read lock as the dump (`snapshotDatabase` in local/database.ts writes
 * it into metadata.json), and local/verify-restore.ts reads it from there. Taking a second,
 * earlier copy here would only be less exact, so this adapter records nothing: it checks the
 * input with the Lambda's schema and answers the step's contract with that location and
 * `with-snapshot` consistency. When a retry finds the snapshot already taken, it reports the
 * manifest the snapshot recorded (`kept`).
 */
export function recordSnapshotManifest(ctx: Pick<StepContext, 'config' | 'note'>) {
  return localStep(
    defineStep(RecordSnapshotManifestInputSchema, async ({ snapshotId }) => {
      const location = localManifestPath(ctx.config.stateDir, snapshotId);
      const taken = await describeSnapshot(ctx.config.stateDir, snapshotId);
      const answer: RecordSnapshotManifestOutput = taken
        ? {
            snapshotId,
            location,
            consistency: 'with-snapshot',
            state: 'kept',
            tables: taken.tables.length,
            createdAt: taken.createdAt,
          }
        : { snapshotId, location, consistency: 'with-snapshot', state: 'with-snapshot' };
      ctx.note(
        taken
          ? `RecordSnapshotManifest: ${snapshotId} already holds its manifest (${taken.tables.length} tables)`
          : `RecordSnapshotManifest: ${snapshotId} records its manifest under the dump's read lock`,
      );
      return RecordSnapshotManifestOutputSchema.parse(answer);
    }),
  );
}
