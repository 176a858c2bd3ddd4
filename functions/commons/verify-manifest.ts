/**
 * The snapshot manifest: row counts and `CHECKSUM TABLE` values of every table, recorded on the
 * live database when a snapshot is taken, so a restore can later be compared with it.
 * Format: `{ snapshotId, createdAt, tables: { <name>: { rows, checksum } } }`.
 */
import type { Connection } from 'mysql2/promise';
import { z } from 'zod';
import { buildManifest, type SnapshotManifest } from './verify-data-checks.ts';
import { listTables, tableStats } from './verify-data-sql.ts';

/** zod schema of a manifest file. */
export const SnapshotManifestSchema = z.object({
  snapshotId: z.string().min(1),
  createdAt: z.iso.datetime(),
  tables: z.record(
    z.string().min(1),
    z.object({ rows: z.number().int().nonnegative(), checksum: z.string().nullable() }),
  ),
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
 */
export async function collectManifest(
  conn: Connection,
  snapshotId: string,
  createdAt: Date = new Date(),
): Promise<SnapshotManifest> {
  const tables = await listTables(conn);
  return buildManifest(snapshotId, createdAt, await tableStats(conn, tables));
}
