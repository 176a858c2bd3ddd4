/**
 * The snapshot manifest: row counts and content checksums of every table (the `row-crc32` method
 * of table-content.ts), recorded on the live database when a snapshot is taken, so a restore can
 * later be compared with it, and the schema then (db_version, tables and columns), so a release
 * can say what its code changed. Format: `{ snapshotId, createdAt, checksumMethod?, tables:
 * { <name>: { rows, checksum } }, schema?: { dbVersion, tables: { <name>: [<column>, ...] } } }`.
 * `checksumMethod` and `schema` are optional: manifests recorded before them still parse (their
 * checksums are `CHECKSUM TABLE` values), and VerifyData reads only `tables` and the method.
 */
import type { Connection } from 'mysql2/promise';
import * as z from 'zod';
import { type ExtraReaders, withReaders } from './table-content.ts';
import { buildManifest, CHECKSUM_METHOD, type SnapshotManifest } from './verify-data-checks.ts';
import { listTables, readSchema, statsReader } from './verify-data-sql.ts';
import { DatabaseSchemaSchema, DEFAULT_TABLE_PREFIX } from './wordpress-schema.ts';

/** zod schema of a manifest file. */
export const SnapshotManifestSchema = z.object({
  snapshotId: z.string().min(1),
  createdAt: z.iso.datetime(),
  checksumMethod: z.enum(['row-crc32', 'checksum-table']).optional(),
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
  readers?: ExtraReaders,
): Promise<SnapshotManifest> {
  const tables = await listTables(conn);
  const stats = await withReaders(conn, readers, (connections) =>
    statsReader(CHECKSUM_METHOD)(connections, tables),
  );
  return buildManifest(snapshotId, createdAt, stats, await readSchema(conn, tablePrefix));
}
