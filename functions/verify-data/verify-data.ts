/**
 * VerifyData: proves a restored database holds what the snapshot should hold. The same function
 * runs in the Lambda (RDS scratch instance) and locally (scratch MariaDB container); only the
 * three dependencies differ.
 */
import type { Connection } from 'mysql2/promise';
import { SCRATCH_READERS, withReaders } from '#commons/table-content.ts';
import {
  type DataVerdict,
  evaluateAgainstLive,
  evaluateAgainstManifest,
  type SnapshotManifest,
  tablesToInspect,
} from '#commons/verify-data-checks.ts';
import { listTables, observeDatabase, rowCounts, statsReader } from '#commons/verify-data-sql.ts';
import { DataVerificationError, ScratchUnreachableError } from '#commons/verify-errors.ts';
import { type VerifyDataOutput, verifyDataOutputSchema } from './schema.ts';

/** Where VerifyData gets its facts. */
export interface VerifyDataDeps {
  /** Opens a connection to the restored (scratch) database (up to {@link SCRATCH_READERS} at once). */
  openScratch(): Promise<Connection>;
  /** Opens a connection to the live database (only used when there is no manifest). */
  openLive(): Promise<Connection>;
  /** The manifest recorded for the snapshot, or undefined. */
  loadManifest(snapshotId: string): Promise<SnapshotManifest | undefined>;
}

/** Tunables of VerifyData. */
export interface VerifyDataSettings {
  /** WordPress table prefix, `wp_` by default. */
  readonly tablePrefix: string;
  /** Allowed relative row-count difference from live when there is no manifest (0.1 = 10 %). */
  readonly rowCountTolerance: number;
}

async function withConnection<T>(conn: Connection, use: (c: Connection) => Promise<T>): Promise<T> {
  try {
    return await use(conn);
  } finally {
    await conn.end().catch(() => undefined);
  }
}

/**
 * What VerifyData hands the ASL (pure): the passing verdict with the time the scratch database
 * first accepted a connection, or DataVerificationError listing every failed check by name. A
 * failing verdict must throw: the ASL goes on from VerifyData without reading `passed`, so a
 * returned one would count as a verified restore.
 */
export function dataOutcome(verdict: DataVerdict, connectedAt: string): VerifyDataOutput {
  if (!verdict.passed) throw new DataVerificationError(verdict.failures);
  return verifyDataOutputSchema.parse({ ...verdict, connectedAt });
}

/**
 * Runs the checks and returns their passing verdict, or throws DataVerificationError listing
 * every failed check by name (ScratchUnreachableError when the scratch database cannot be
 * reached).
 */
export async function verifyData(
  snapshotId: string,
  settings: VerifyDataSettings,
  deps: VerifyDataDeps,
): Promise<VerifyDataOutput> {
  const manifest = await deps.loadManifest(snapshotId);
  let scratch: Connection;
  try {
    scratch = await deps.openScratch();
  } catch (error) {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new ScratchUnreachableError(`cannot connect to the scratch database: ${detail}`, {
      cause: error,
    });
  }
  const connectedAt = new Date().toISOString();
  const inspect = tablesToInspect(settings.tablePrefix, manifest);
  // Checksums are compared only with a manifest, computed the way it computed its own.
  const readStats = manifest ? statsReader(manifest.checksumMethod ?? 'checksum-table') : rowCounts;
  const observed = await withConnection(scratch, (c) =>
    withReaders(c, { openMore: deps.openScratch, parallelism: SCRATCH_READERS }, (readers) =>
      observeDatabase(readers, inspect, readStats),
    ),
  );
  let verdict: DataVerdict;
  if (manifest) {
    verdict = evaluateAgainstManifest({
      snapshotId,
      prefix: settings.tablePrefix,
      manifest,
      observed,
    });
  } else {
    const live = await withConnection(await deps.openLive(), async (c) => {
      const present = new Set(await listTables(c));
      return rowCounts(
        [c],
        inspect.filter((t) => present.has(t)),
      );
    });
    verdict = evaluateAgainstLive({
      prefix: settings.tablePrefix,
      tolerance: settings.rowCountTolerance,
      live,
      observed,
    });
  }
  return dataOutcome(verdict, connectedAt);
}
