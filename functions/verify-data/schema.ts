import * as z from 'zod';

/** VerifyData input: which snapshot was restored and where the scratch instance listens. */
export const VerifyDataInputSchema = z.object({
  snapshotId: z.string().min(1),
  scratch: z.object({
    host: z.string().min(1),
    port: z.coerce.number().int().min(1).max(65535),
  }),
});

/** VerifyData output: the verdict (only a passing one is returned; failures throw). */
export const VerifyDataOutputSchema = z.object({
  passed: z.literal(true),
  mode: z.enum(['manifest', 'live']),
  checkedTables: z.array(z.string()),
  failures: z.array(z.string()).length(0),
  /** When the scratch database first accepted a connection: the restore clock (RTO) stops here. */
  connectedAt: z.string(),
});

export type VerifyDataInput = z.infer<typeof VerifyDataInputSchema>;
export type VerifyDataOutput = z.infer<typeof VerifyDataOutputSchema>;
