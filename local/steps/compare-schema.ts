import { defineStep } from '#commons/step.ts';
import { DEFAULT_TABLE_PREFIX } from '#commons/wordpress-schema.ts';
import { compareSchemas } from '#functions/compare-schema/compare-schema.ts';
import {
  CompareSchemaInputSchema,
  CompareSchemaOutputSchema,
} from '#functions/compare-schema/schema.ts';
import { type DatabaseHandle, describeSnapshot, liveSchema } from '../database.ts';
import { manifestFromMetadata } from '../verify-restore.ts';
import type { StepContext } from './context.ts';
import { localStep } from './local-step.ts';

/**
 * CompareSchema, locally: the Lambda's decision (`compareSchemas`) on the manifest the snapshot
 * recorded in its metadata.json, under the dump's read lock, and the schema the local MariaDB
 * holds now, read with the Lambda's own `readSchema` as the application user. A failure
 * (the database unreachable) is thrown, and the ASL records the schema as not read.
 */
export function compareSchema(
  ctx: Pick<StepContext, 'config' | 'database' | 'note'>,
  readLive: (db: DatabaseHandle, tablePrefix: string) => ReturnType<typeof liveSchema> = liveSchema,
) {
  return localStep(
    defineStep(CompareSchemaInputSchema, async (input) => {
      const snapshot = await describeSnapshot(ctx.config.stateDir, input.snapshotId);
      const live = await readLive(ctx.database, DEFAULT_TABLE_PREFIX);
      const out = compareSchemas(input, snapshot && manifestFromMetadata(snapshot), live);
      ctx.note(
        out.status === 'READ'
          ? `CompareSchema: ${out.change.changed ? `changed since ${input.snapshotId}` : `unchanged since ${input.snapshotId}`}`
          : `CompareSchema: no baseline (${out.reason})`,
      );
      return CompareSchemaOutputSchema.parse(out);
    }),
  );
}
