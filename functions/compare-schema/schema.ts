import * as z from 'zod';
import { SCHEMA_OUTCOMES, SchemaChangeSchema } from '#commons/wordpress-schema.ts';

/**
 * CompareSchema input: the pre-release snapshot (whose manifest holds the schema the release
 * found) and the outcome the release came to, which decides what the message says.
 */
export const CompareSchemaInputSchema = z.object({
  snapshotId: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,254}$/, 'snapshotId must be an RDS snapshot identifier'),
  outcome: z.enum(SCHEMA_OUTCOMES),
});

const summary = z.object({
  dbVersion: z.string().nullable(),
  tables: z.number().int().nonnegative(),
});

/**
 * What CompareSchema found, kept small for the execution state and the ledger (the full schema
 * the release found is in the snapshot's manifest). `note` is the sentence the release's
 * message ends with ('' when there is nothing to say). The ASL's SchemaNotRead state answers
 * in the same shape with `status: NOT_READ` when this step itself failed.
 */
export const CompareSchemaOutputSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('READ'),
    snapshotId: z.string(),
    before: summary,
    after: summary,
    change: SchemaChangeSchema,
    note: z.string(),
  }),
  z.object({
    /** The snapshot's manifest holds no schema to compare with (or there is no manifest). */
    status: z.literal('NO_BASELINE'),
    snapshotId: z.string(),
    after: summary,
    reason: z.string(),
    note: z.string(),
  }),
]);

export type CompareSchemaInput = z.infer<typeof CompareSchemaInputSchema>;
export type CompareSchemaOutput = z.infer<typeof CompareSchemaOutputSchema>;
