import * as z from 'zod';

/** RecordSnapshotManifest input: the id the release's snapshot is about to be taken under. */
export const RecordSnapshotManifestInputSchema = z.object({
  snapshotId: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,254}$/, 'snapshotId must be an RDS snapshot identifier'),
});

/**
 * Where the manifest of the snapshot is, as VerifyData (PickSnapshot's snapshot id) finds it.
 * `consistency` says how it relates to the snapshot: `before-snapshot` on AWS (recorded on the
 * live database just before CreateDBSnapshot, so writes in between make it differ) or
 * `with-snapshot` locally (recorded under the same global read lock as the dump).
 */
export const RecordSnapshotManifestOutputSchema = z.object({
  snapshotId: z.string(),
  /** `s3://<bucket>/<manifestKey(prefix, snapshotId)>` on AWS, a file path locally. */
  location: z.string(),
  consistency: z.enum(['before-snapshot', 'with-snapshot']),
  /**
   * `recorded` by this call, `kept` (an earlier attempt recorded it; it is never replaced), or
   * `with-snapshot` (locally: the snapshot records it when it is taken).
   */
  state: z.enum(['recorded', 'kept', 'with-snapshot']),
  /** Tables in the manifest and when it was taken (absent locally until the snapshot exists). */
  tables: z.number().int().nonnegative().optional(),
  createdAt: z.string().optional(),
});

export type RecordSnapshotManifestInput = z.infer<typeof RecordSnapshotManifestInputSchema>;
export type RecordSnapshotManifestOutput = z.infer<typeof RecordSnapshotManifestOutputSchema>;
