/**
 * The snapshot manifest: row counts and `CHECKSUM TABLE` values of every table, recorded on the
 * live database when a snapshot is taken, so a restore can later be compared with it, and the
 * schema then (db_version, tables and columns), so a release can say what its code changed.
 * Format: `{ snapshotId, createdAt, tables: { <name>: { rows, checksum } },
 * schema?: { dbVersion, tables: { <name>: [<column>, ...] } } }`. `schema` is optional:
 * manifests recorded before it existed still parse, and VerifyData reads only `tables`.
 */
import type { Connection } from 'mysql2/promise';
import * as z from 'zod';
import { buildManifest, type SnapshotManifest } from './verify-data-checks.ts';
import { listTables, readSchema, tableStats } from './verify-data-sql.ts';
import { DatabaseSchemaSchema, DEFAULT_TABLE_PREFIX } from './wordpress-schema.ts';

/** zod schema of a manifest file. */
export const SnapshotManifestSchema = z.object({
  snapshotId: z.string().min(1),
  createdAt: z.iso.datetime(),
  tables: z.record(
    z.string().min(1),
    z.object({ rows: z.number().int().nonnegative(), checksum: z.string().nullable() }),
  ),
  schema: DatabaseSchemaSchema.optional(),
});

/** Parses and validates manifest JSON text, naming what is wrong. */
export function parseManifest(text: string): SnapshotManifest {
  return SnapshotManifestSchema.parse(JSON.parse(text));
}

/** The S3 key of a snapshot's manifest under a prefix, e.g. `manifests/<snapshotId>.json`. */
export function manifestKey(prefix: string, snapshotId: string): string {
  return `${prefix.replace(/\/?$/, '/')}${snapshotId}.json`;
}

/**
 * Records the manifest of the connected (live) database. Call it just before the snapshot is
 * taken on a quiet database, or inside a consistent read, so the numbers match the snapshot.
 * Local mode builds the same manifest from its snapshot metadata (local/database.ts, with the
 * same `readSchema`); keep the two agreeing.
 */
export async function collectManifest(
  conn: Connection,
  snapshotId: string,
  createdAt: Date = new Date(),
  tablePrefix: string = DEFAULT_TABLE_PREFIX,
): Promise<SnapshotManifest> {
  const tables = await listTables(conn);
  const stats = await tableStats(conn, tables);
  return buildManifest(snapshotId, createdAt, stats, await readSchema(conn, tablePrefix));
}
