import * as z from 'zod';

/** PickSnapshot input: an explicit snapshot (a release's pre-deploy one), or none for the latest automated. */
export const pickSnapshotSchema = z.object({
  runId: z.string().min(1).max(80),
  request: z.object({
    snapshotId: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-:]{0,254}$/, 'snapshotId must be an RDS snapshot identifier')
      .optional(),
  }),
});

/** PickSnapshot input type. */
export type PickSnapshotEvent = z.infer<typeof pickSnapshotSchema>;

/** PickSnapshot output: what the restore and the checks need about the snapshot and the scratch instance. */
export const pickSnapshotOutputSchema = z.object({
  snapshotId: z.string(),
  snapshotArn: z.string(),
  snapshotCreateTime: z.string(),
  source: z.enum(['given', 'latest-automated']),
  /** When the snapshot was picked: the restore clock (RTO) starts here. */
  pickedAt: z.string(),
  scratch: z.object({ instanceId: z.string(), expiresAt: z.string() }),
});

/** PickSnapshot output type. */
export type PickSnapshotOutput = z.infer<typeof pickSnapshotOutputSchema>;
