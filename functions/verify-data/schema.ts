import * as z from 'zod';

/** VerifyData input: which snapshot was restored and where the scratch instance listens. */
export const verifyDataSchema = z.object({
  snapshotId: z.string().min(1),
  scratch: z.object({
    host: z.string().min(1),
    port: z.coerce.number().int().min(1).max(65535),
  }),
});

/** VerifyData input type. */
export type VerifyDataEvent = z.infer<typeof verifyDataSchema>;

/**
 * VerifyData output: the verdict. Only a passing one is ever returned, because the ASL goes on
 * from VerifyData without a Choice on `passed`: a failed check throws DataVerificationError.
 */
export const verifyDataOutputSchema = z.object({
  passed: z.literal(true),
  mode: z.enum(['manifest', 'live']),
  checkedTables: z.array(z.string()),
  failures: z.array(z.string()).length(0),
  /** When the scratch database first accepted a connection: the restore clock (RTO) stops here. */
  connectedAt: z.string(),
});

/** VerifyData output type. */
export type VerifyDataOutput = z.infer<typeof verifyDataOutputSchema>;
