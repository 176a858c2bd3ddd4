import * as z from 'zod';

/** PruneSnapshots input: the release that just succeeded and how many snapshots to keep. */
export const pruneSnapshotsSchema = z.object({
  service: z.string().min(1),
  releaseId: z.string().min(1),
  dbInstanceIdentifier: z.string().min(1),
  snapshotPrefix: z.string().min(1),
  currentSnapshotId: z.string().min(1),
  keepNewest: z.int().min(1).max(50),
  keepKnownGood: z.int().min(0).max(20),
});

/** PruneSnapshots input type. */
export type PruneSnapshotsEvent = z.infer<typeof pruneSnapshotsSchema>;

/** PruneSnapshots output: what was deleted and what was kept, with why. */
export const pruneSnapshotsOutputSchema = z.object({
  deleted: z.array(z.string()),
  kept: z.array(z.object({ id: z.string(), reason: z.string() })),
});

/** PruneSnapshots output type. */
export type PruneSnapshotsOutput = z.infer<typeof pruneSnapshotsOutputSchema>;
