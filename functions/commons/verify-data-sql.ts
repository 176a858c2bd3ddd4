/**
 * The thin SQL side of VerifyData: gathers table names, row counts, checksums (by the method the
 * manifest names: table-content.ts, or `CHECKSUM TABLE` for older manifests) and `CHECK TABLE`
 * results from a MySQL/MariaDB database. No decisions here (see verify-data-checks.ts).
 */
import type { Connection, ConnectionOptions, RowDataPacket } from 'mysql2/promise';
import { createConnection } from 'mysql2/promise';
import { contentStats, quoteIdentifier, runJobs } from './table-content.ts';
import type {
  ChecksumMethod,
  CheckTableResult,
  ObservedDatabase,
  TableStat,
} from './verify-data-checks.ts';
import {
  type ColumnRow,
  type DatabaseSchema,
  optionsTable,
  schemaFromColumns,
} from './wordpress-schema.ts';

/** Where and as whom to connect; the password never leaves this object (no logging). */
export interface DatabaseEndpoint {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

/** Opens one connection; numbers as strings so 64-bit checksums survive. */
export function connectDatabase(
  endpoint: DatabaseEndpoint,
  extra: Partial<ConnectionOptions> = {},
): Promise<Connection> {
  return createConnection({
    host: endpoint.host,
    port: endpoint.port,
    user: endpoint.user,
    password: endpoint.password,
    database: endpoint.database,
    connectTimeout: 10_000,
    supportBigNumbers: true,
    bigNumberStrings: true,
    ...extra,
  });
}

export { quoteIdentifier };

/** Every base table of the connection's current schema. */
export async function listTables(conn: Connection): Promise<string[]> {
  const [rows] = await conn.query<RowDataPacket[]>(
    "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
  );
  return rows.map((row) => String(row.name));
}

/** Columns of every base table of the connection's current schema, in ordinal order. */
export const SCHEMA_COLUMNS_SQL =
  'SELECT c.TABLE_NAME AS table_name, c.COLUMN_NAME AS column_name FROM information_schema.COLUMNS c ' +
  'JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME ' +
  "WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE' " +
  'ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION';

function text(value: unknown): string {
  // A binary-collated longtext (some options tables) comes back as a Buffer.
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

/**
 * The schema of the connected database: every base table with its columns, and WordPress's
 * `db_version` from `<tablePrefix>options` (null when that table, or the row, is not there).
 * The same function records the schema a release found (the snapshot manifest, on AWS and
 * locally) and reads the one it left (CompareSchema), so the two are always comparable.
 */
export async function readSchema(conn: Connection, tablePrefix: string): Promise<DatabaseSchema> {
  const [rows] = await conn.query<RowDataPacket[]>(SCHEMA_COLUMNS_SQL);
  const columns: ColumnRow[] = rows.map((row) => ({
    table: text(row.table_name),
    column: text(row.column_name),
  }));
  const options = optionsTable(tablePrefix);
  const optionColumns = new Set(columns.filter((c) => c.table === options).map((c) => c.column));
  let dbVersion: string | null = null;
  if (optionColumns.has('option_name') && optionColumns.has('option_value')) {
    const [found] = await conn.query<RowDataPacket[]>(
      `SELECT option_value AS value FROM ${quoteIdentifier(options)} WHERE option_name = 'db_version' LIMIT 1`,
    );
    const value = found[0]?.value;
    dbVersion = value === undefined || value === null ? null : text(value);
  }
  return schemaFromColumns(columns, dbVersion);
}

function bareName(qualified: string): string {
  // CHECK/CHECKSUM TABLE report `schema.table`.
  const dot = qualified.indexOf('.');
  return dot >= 0 ? qualified.slice(dot + 1) : qualified;
}

/** How row counts and checksums of some tables are read (see {@link observeDatabase}). */
export type StatsReader = (
  connections: readonly Connection[],
  tables: readonly string[],
) => Promise<Record<string, TableStat>>;

function first(connections: readonly Connection[]): Connection {
  const [conn] = connections;
  if (!conn) throw new RangeError('no connection to read with');
  return conn;
}

/** Exact row counts (`COUNT(*)`) without checksums: what a comparison with the live database needs. */
export async function rowCounts(
  connections: readonly Connection[],
  tables: readonly string[],
): Promise<Record<string, TableStat>> {
  const counts = await runJobs(
    connections,
    tables.map((table) => async (conn: Connection) => {
      const [counted] = await conn.query<RowDataPacket[]>(
        `SELECT COUNT(*) AS n FROM ${quoteIdentifier(table)}`,
      );
      return Number(counted[0]?.n);
    }),
  );
  return Object.fromEntries(
    tables.map((table, i) => [table, { rows: counts[i] as number, checksum: null }]),
  );
}

/**
 * The reader of counts and checksums computed as `method` computes them: `row-crc32` shares the
 * chunks among all the connections; `checksum-table` uses the first.
 */
export function statsReader(method: ChecksumMethod): StatsReader {
  if (method === 'checksum-table')
    return (connections, tables) => tableStats(first(connections), tables);
  return contentStats;
}

/**
 * Row counts (exact `COUNT(*)`, not the estimate in information_schema) and `CHECKSUM TABLE`
 * values: the `checksum-table` method, which only manifests recorded before `row-crc32` use.
 */
export async function tableStats(
  conn: Connection,
  tables: readonly string[],
): Promise<Record<string, TableStat>> {
  const stats: Record<string, TableStat> = {};
  if (tables.length === 0) return stats;
  const checksums = new Map<string, string | null>();
  const [sums] = await conn.query<RowDataPacket[]>(
    `CHECKSUM TABLE ${tables.map(quoteIdentifier).join(', ')}`,
  );
  for (const row of sums) {
    checksums.set(bareName(String(row.Table)), row.Checksum === null ? null : String(row.Checksum));
  }
  for (const table of tables) {
    const [counted] = await conn.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM ${quoteIdentifier(table)}`,
    );
    stats[table] = { rows: Number(counted[0]?.n), checksum: checksums.get(table) ?? null };
  }
  return stats;
}

/** `CHECK TABLE` per table: OK only when the server's final status row says `OK`. */
export async function checkTables(
  connections: readonly Connection[],
  tables: readonly string[],
): Promise<Record<string, CheckTableResult>> {
  const results: Record<string, CheckTableResult> = {};
  if (tables.length === 0) return results;
  // One statement per table, so the connections check several tables at once.
  const answers = await runJobs(
    connections,
    tables.map((table) => async (conn: Connection) => {
      const [rows] = await conn.query<RowDataPacket[]>(`CHECK TABLE ${quoteIdentifier(table)}`);
      return rows;
    }),
  );
  const rows = answers.flat();
  const byTable = new Map<string, { type: string; text: string }[]>();
  for (const row of rows) {
    const name = bareName(String(row.Table));
    const list = byTable.get(name) ?? [];
    list.push({ type: String(row.Msg_type), text: String(row.Msg_text) });
    byTable.set(name, list);
  }
  for (const table of tables) {
    const messages = byTable.get(table) ?? [];
    const status = messages.filter((m) => m.type === 'status').at(-1);
    const error = messages.find((m) => m.type === 'error');
    const ok = status?.text === 'OK' && !error;
    results[table] = { ok, message: ok ? 'OK' : (error?.text ?? status?.text ?? 'no result') };
  }
  return results;
}

/**
 * Everything the decisions need about the named tables of the connected database, read with
 * all the connections: their counts and checksums read by `readStats` (the manifest's method,
 * or counts only against live).
 */
export async function observeDatabase(
  connections: readonly Connection[],
  inspect: readonly string[],
  readStats: StatsReader,
): Promise<ObservedDatabase> {
  const tables = await listTables(first(connections));
  const existing = new Set(tables);
  const present = inspect.filter((t) => existing.has(t));
  // Checks and reads share the connections: a table's read need not wait for every check.
  const [checked, read] = await Promise.allSettled([
    checkTables(connections, present),
    readStats(connections, present),
  ]);
  if (checked.status === 'rejected') throw checked.reason;
  const checks = checked.value;
  const sound = present.filter((t) => checks[t]?.ok);
  let stats: Record<string, TableStat>;
  if (read.status === 'fulfilled') stats = read.value;
  // A damaged table can make the read error out; its CHECK TABLE failure already names it, so
  // the sound tables are read again without it.
  else if (sound.length < present.length) stats = await readStats(connections, sound);
  else throw read.reason;
  return {
    tables,
    checks,
    stats: Object.fromEntries(sound.flatMap((t) => (stats[t] ? [[t, stats[t]]] : []))),
  };
}
