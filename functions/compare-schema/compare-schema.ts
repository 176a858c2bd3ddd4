/**
 * CompareSchema: after the release's outcome is known (it succeeded, was rolled back, or its
 * rollback failed), reads the schema the release left on the live database and compares it
 * with the schema its pre-release snapshot's manifest recorded. A rollback restores code, not
 * the schema: when the release's code changed the schema, the release's message says so and
 * names the snapshot that undoes it.
 *
 * The ASL catches every failure of this step (SchemaNotRead) and carries on to RecordRelease:
 * not knowing the schema must never turn a rollback into something worse.
 */
import type { Connection } from 'mysql2/promise';
import { withLiveDatabase } from '#commons/live-database.ts';
import type { SnapshotManifest } from '#commons/verify-data-checks.ts';
import { readSchema } from '#commons/verify-data-sql.ts';
import {
  type DatabaseSchema,
  schemaChange,
  schemaNote,
  summarizeSchema,
} from '#commons/wordpress-schema.ts';
import type { CompareSchemaInput, CompareSchemaOutput } from './schema.ts';

/** What the step reaches; the handler binds S3, Secrets Manager and mysql2, local mode its own. */
export interface CompareSchemaDeps {
  /** The manifest recorded for the snapshot, or undefined when there is none. */
  loadManifest(snapshotId: string): Promise<SnapshotManifest | undefined>;
  /** The live database's schema now. */
  readLive(): Promise<DatabaseSchema>;
}

/**
 * The schema the release found, from its snapshot's manifest, or why there is none to compare
 * with (no manifest, another snapshot's, or one recorded before manifests held schemas). Pure.
 */
export function baselineOf(
  manifest: SnapshotManifest | undefined,
  snapshotId: string,
): { readonly schema: DatabaseSchema } | { readonly reason: string } {
  if (!manifest) return { reason: `no manifest was recorded for snapshot ${snapshotId}` };
  if (manifest.snapshotId !== snapshotId)
    return { reason: `the manifest found for ${snapshotId} is that of ${manifest.snapshotId}` };
  if (!manifest.schema)
    return {
      reason: `the manifest of snapshot ${snapshotId} was recorded before manifests held the schema`,
    };
  return { schema: manifest.schema };
}

/**
 * The decision: the change from the manifest's schema to the live one, and the sentence the
 * release's message ends with for this outcome. Pure (shared with the local adapter).
 */
export function compareSchemas(
  input: CompareSchemaInput,
  manifest: SnapshotManifest | undefined,
  live: DatabaseSchema,
): CompareSchemaOutput {
  const baseline = baselineOf(manifest, input.snapshotId);
  if ('reason' in baseline) {
    return {
      status: 'NO_BASELINE',
      snapshotId: input.snapshotId,
      after: summarizeSchema(live),
      reason: baseline.reason,
      note: schemaNote(input.outcome, input.snapshotId, { noBaseline: baseline.reason }),
    };
  }
  const change = schemaChange(baseline.schema, live);
  return {
    status: 'READ',
    snapshotId: input.snapshotId,
    before: summarizeSchema(baseline.schema),
    after: summarizeSchema(live),
    change,
    note: schemaNote(input.outcome, input.snapshotId, { change }),
  };
}

/** Loads the manifest, reads the live schema and compares them. */
export async function compareSchema(
  input: CompareSchemaInput,
  deps: CompareSchemaDeps,
): Promise<CompareSchemaOutput> {
  const manifest = await deps.loadManifest(input.snapshotId);
  return compareSchemas(input, manifest, await deps.readLive());
}

/**
 * Opens the live database, reads its schema (db_version from `<tablePrefix>options`) and closes
 * the connection; failures are LiveDatabaseError naming `where`.
 */
export function readLiveSchema(
  open: () => Promise<Connection>,
  where: string,
  tablePrefix: string,
): Promise<DatabaseSchema> {
  return withLiveDatabase(open, where, (conn) => readSchema(conn, tablePrefix));
}
