/**
 * VerifyData's decisions: given what a restored database holds and what it should hold, which
 * named checks fail. Pure functions shared by the Lambda (RDS scratch instance) and the local
 * adapter (scratch MariaDB container); the SQL that gathers the facts lives in verify-data-sql.ts.
 */

import type { DatabaseSchema } from './wordpress-schema.ts';

/** WordPress core tables of a single site, without the table prefix. */
export const WORDPRESS_CORE_TABLES = [
  'options',
  'posts',
  'postmeta',
  'users',
  'usermeta',
  'terms',
  'term_taxonomy',
  'term_relationships',
  'termmeta',
  'comments',
  'commentmeta',
  'links',
] as const;

/** Row count and checksum of one table, by the manifest's {@link ChecksumMethod} (a decimal string: it can exceed 2^53). */
export interface TableStat {
  readonly rows: number;
  readonly checksum: string | null;
}

/**
 * How a manifest's checksums were computed, so a restore is checksummed the same way:
 * `row-crc32` is the sum of every row's CRC32, read in key-range chunks over several
 * connections (table-content.ts); `checksum-table` is MySQL's `CHECKSUM TABLE`, which manifests
 * recorded before `checksumMethod` existed used (the field is absent in them).
 */
export type ChecksumMethod = 'row-crc32' | 'checksum-table';

/** The method of manifests recorded now. */
export const CHECKSUM_METHOD: ChecksumMethod = 'row-crc32';

/** What was recorded when the snapshot was taken (S3 on AWS, snapshot metadata locally). */
export interface SnapshotManifest {
  readonly snapshotId: string;
  readonly createdAt: string;
  /** Absent: `checksum-table` (a manifest recorded before the field existed). */
  readonly checksumMethod?: ChecksumMethod;
  readonly tables: Readonly<Record<string, TableStat>>;
  /**
   * The schema when the snapshot was taken (db_version, tables and their columns): what
   * CompareSchema compares the schema a release left with. Absent in manifests recorded before
   * schemas were (VerifyData needs only `tables`).
   */
  readonly schema?: DatabaseSchema;
}

/** Outcome of `CHECK TABLE` for one table: `OK` or the server's last message text. */
export interface CheckTableResult {
  readonly ok: boolean;
  readonly message: string;
}

/** What the SQL helper found in the restored database. */
export interface ObservedDatabase {
  /** Every base table in the schema. */
  readonly tables: readonly string[];
  /** Stats of the inspected tables that exist. */
  readonly stats: Readonly<Record<string, TableStat>>;
  /** `CHECK TABLE` results of the inspected tables that exist. */
  readonly checks: Readonly<Record<string, CheckTableResult>>;
}

/** Names of the checks; the first word of every failure line. */
export type CheckName =
  | 'MissingTable'
  | 'CheckTableFailed'
  | 'RowCountMismatch'
  | 'ChecksumMismatch'
  | 'ManifestMismatch'
  | 'RowCountOutOfTolerance';

/** One failed check, e.g. `{ check: 'RowCountMismatch', table: 'wp_posts', detail: 'expected 12 got 0' }`. */
export interface CheckFailure {
  readonly check: CheckName;
  readonly table?: string;
  readonly detail?: string;
}

/** The verdict handed back by VerifyData. */
export interface DataVerdict {
  readonly passed: boolean;
  readonly mode: 'manifest' | 'live';
  readonly checkedTables: readonly string[];
  readonly failures: readonly string[];
}

/** `MissingTable:wp_posts`, `RowCountMismatch:wp_posts expected 12 got 0`. */
export function formatFailure(failure: CheckFailure): string {
  const head = failure.table ? `${failure.check}:${failure.table}` : failure.check;
  return failure.detail ? `${head} ${failure.detail}` : head;
}

/** The prefixed core table names, e.g. `wp_options`. Refuses a prefix MySQL would need quoting for. */
export function coreTables(prefix: string): string[] {
  if (!/^[A-Za-z0-9_]+$/.test(prefix)) {
    throw new RangeError(`table prefix must be letters, digits or underscores: ${prefix}`);
  }
  return WORDPRESS_CORE_TABLES.map((name) => `${prefix}${name}`);
}

/** Tables to inspect: the core tables plus any other table the manifest recorded (plugins). */
export function tablesToInspect(prefix: string, manifest?: SnapshotManifest): string[] {
  const names = new Set(coreTables(prefix));
  for (const name of Object.keys(manifest?.tables ?? {})) names.add(name);
  return [...names].sort();
}

function presenceAndIntegrity(
  expected: readonly string[],
  observed: ObservedDatabase,
): { failures: CheckFailure[]; present: string[] } {
  const existing = new Set(observed.tables);
  const failures: CheckFailure[] = [];
  const present: string[] = [];
  for (const table of expected) {
    if (!existing.has(table)) {
      failures.push({ check: 'MissingTable', table });
      continue;
    }
    present.push(table);
    const check = observed.checks[table];
    if (!check?.ok) {
      failures.push({
        check: 'CheckTableFailed',
        table,
        detail: check ? check.message : 'no result',
      });
    }
  }
  return { failures, present };
}

/**
 * Compares a restored database with the manifest recorded at snapshot time: every expected table
 * present, `CHECK TABLE` OK, row counts and checksums equal. A manifest naming another snapshot
 * is itself a failure: its numbers would prove nothing about this one.
 */
export function evaluateAgainstManifest(input: {
  readonly snapshotId: string;
  readonly prefix: string;
  readonly manifest: SnapshotManifest;
  readonly observed: ObservedDatabase;
}): DataVerdict {
  const { snapshotId, prefix, manifest, observed } = input;
  const expected = tablesToInspect(prefix, manifest);
  const failures: CheckFailure[] = [];
  if (manifest.snapshotId !== snapshotId) {
    failures.push({
      check: 'ManifestMismatch',
      detail: `manifest is for ${manifest.snapshotId}, not ${snapshotId}`,
    });
  }
  for (const table of coreTables(prefix)) {
    if (!(table in manifest.tables)) {
      failures.push({ check: 'ManifestMismatch', table, detail: 'not recorded in the manifest' });
    }
  }
  const integrity = presenceAndIntegrity(expected, observed);
  failures.push(...integrity.failures);
  for (const table of integrity.present) {
    const want = manifest.tables[table];
    const got = observed.stats[table];
    if (!want || !got) continue;
    if (want.rows !== got.rows) {
      failures.push({
        check: 'RowCountMismatch',
        table,
        detail: `expected ${want.rows} got ${got.rows}`,
      });
    } else if (want.checksum !== got.checksum) {
      // Only worth naming when the counts agree: a different count already explains it.
      failures.push({
        check: 'ChecksumMismatch',
        table,
        detail: `expected ${want.checksum} got ${got.checksum}`,
      });
    }
  }
  return verdict('manifest', expected, failures);
}

/** Whether `observed` is within `tolerance` (a fraction, 0.1 = 10 %) of `live`, rounding the allowance up. */
export function withinTolerance(observed: number, live: number, tolerance: number): boolean {
  return Math.abs(observed - live) <= Math.ceil(live * tolerance);
}

/**
 * For a snapshot without a manifest: the same presence and integrity checks, and each core
 * table's row count within `tolerance` of the live database's (the live one has moved on since).
 */
export function evaluateAgainstLive(input: {
  readonly prefix: string;
  readonly tolerance: number;
  readonly live: Readonly<Record<string, TableStat>>;
  readonly observed: ObservedDatabase;
}): DataVerdict {
  const { prefix, tolerance, live, observed } = input;
  if (!(tolerance >= 0 && tolerance <= 1)) {
    throw new RangeError(`row-count tolerance must be between 0 and 1: ${tolerance}`);
  }
  const expected = coreTables(prefix);
  const integrity = presenceAndIntegrity(expected, observed);
  const failures: CheckFailure[] = [...integrity.failures];
  for (const table of integrity.present) {
    const liveStat = live[table];
    const got = observed.stats[table];
    if (!liveStat || !got) continue;
    if (!withinTolerance(got.rows, liveStat.rows, tolerance)) {
      failures.push({
        check: 'RowCountOutOfTolerance',
        table,
        detail: `live ${liveStat.rows} got ${got.rows} (tolerance ${Math.round(tolerance * 100)}%)`,
      });
    }
  }
  return verdict('live', expected, failures);
}

function verdict(
  mode: DataVerdict['mode'],
  checkedTables: readonly string[],
  failures: readonly CheckFailure[],
): DataVerdict {
  return {
    passed: failures.length === 0,
    mode,
    checkedTables,
    failures: failures.map(formatFailure),
  };
}

/** Builds a manifest from stats gathered on the live database at snapshot time ({@link CHECKSUM_METHOD}). */
export function buildManifest(
  snapshotId: string,
  createdAt: Date,
  stats: Readonly<Record<string, TableStat>>,
  schema?: DatabaseSchema,
): SnapshotManifest {
  const tables: Record<string, TableStat> = {};
  for (const name of Object.keys(stats).sort()) tables[name] = stats[name] as TableStat;
  return {
    snapshotId,
    createdAt: createdAt.toISOString(),
    checksumMethod: CHECKSUM_METHOD,
    tables,
    ...(schema ? { schema } : {}),
  };
}
