/**
 * Row counts and content checksums of whole tables, read in primary-key chunks over several
 * connections at once. One connection reading a table larger than the buffer pool waits on one
 * page read at a time; a restored RDS volume (read from S3 on first touch) and the local scratch
 * (O_DIRECT) both answer several outstanding reads nearly as fast as one, so the same full read
 * takes a fraction of the time. The checksum is the sum of every row's CRC32, order-free, so
 * chunks add up to the same value however the table was split, on the live database when the
 * manifest is recorded and on the restored one when it is verified.
 */
import type { Connection, RowDataPacket } from 'mysql2/promise';
import type { TableStat } from './verify-data-checks.ts';

/** Backtick-quotes an identifier for MySQL. */
export function quoteIdentifier(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

/** What {@link contentStats} needs to know of a table to split and checksum it. */
export interface TableLayout {
  readonly table: string;
  /** Every column, in ordinal order. */
  readonly columns: readonly string[];
  /** The primary key's first column when it is an integer (chunks are ranges of it), else null. */
  readonly chunkKey: string | null;
  /** InnoDB's estimate of the table's data size (information_schema.TABLES.DATA_LENGTH). */
  readonly dataBytes: number;
}

/**
 * Connections that read a restored (scratch) database at once: it serves nobody else, and a
 * restored volume (read from S3 on first touch) or a local O_DIRECT one answers eight
 * outstanding reads nearly as fast as one (`npm run bench -- restore`: 1 GB verified in 6.2 s
 * against 16.3 s on one connection).
 */
export const SCRATCH_READERS = 8;

/**
 * Connections that read the live database at once for its manifest: half of a scratch's, since
 * the live one serves the site meanwhile.
 */
export const LIVE_READERS = 4;

/** Bytes of table data per chunk: small enough that the connections share a big table evenly. */
export const CHUNK_BYTES = 16 * 1024 * 1024;
/** At most this many chunks per table (a key range split finer gains nothing). */
export const MAX_CHUNKS = 256;

/** How many chunks a table of `dataBytes` is read in. Pure. */
export function chunkCount(dataBytes: number): number {
  if (!(dataBytes > 0)) return 1;
  return Math.min(MAX_CHUNKS, Math.max(1, Math.ceil(dataBytes / CHUNK_BYTES)));
}

/**
 * The boundaries that split the key range [min, max] into `chunks` parts of equal width
 * (chunks - 1 values, ascending, none repeated: a narrow range gives fewer chunks). Pure.
 */
export function chunkBoundaries(min: bigint, max: bigint, chunks: number): bigint[] {
  const span = max - min + 1n;
  const parts = BigInt(Math.max(1, chunks));
  const boundaries: bigint[] = [];
  for (let i = 1n; i < parts; i++) {
    const boundary = min + (span * i) / parts;
    if (boundary > min && boundary !== boundaries.at(-1)) boundaries.push(boundary);
  }
  return boundaries;
}

/**
 * WHERE clauses covering every row exactly once: below the first boundary, between each pair,
 * from the last one up (open at both ends, so rows outside the [min, max] read earlier are
 * counted too). No boundaries: the whole table. Pure.
 */
export function chunkConditions(key: string, boundaries: readonly bigint[]): string[] {
  if (boundaries.length === 0) return [''];
  const column = quoteIdentifier(key);
  const conditions = [`WHERE ${column} < ${boundaries[0]}`];
  for (let i = 1; i < boundaries.length; i++) {
    conditions.push(`WHERE ${column} >= ${boundaries[i - 1]} AND ${column} < ${boundaries[i]}`);
  }
  conditions.push(`WHERE ${column} >= ${boundaries.at(-1)}`);
  return conditions;
}

/**
 * One row's CRC32: the CRC32 of each column (so no column's text can spill into its neighbour,
 * and no row is too long to join), joined by `#`, followed by which columns are NULL (as
 * pt-table-checksum does), so NULL and an empty string differ. Pure.
 */
export function rowChecksumExpression(columns: readonly string[]): string {
  if (columns.length === 0) throw new RangeError('a table without columns has no row checksum');
  const quoted = columns.map(quoteIdentifier);
  const values = quoted.map((c) => `CRC32(${c})`).join(', ');
  const nulls = quoted.map((c) => `ISNULL(${c})`).join(', ');
  return `CRC32(CONCAT_WS('#', ${values}, CONCAT(${nulls})))`;
}

/** The query reading one chunk: its row count and the sum of its rows' checksums. Pure. */
export function chunkQuery(layout: TableLayout, condition: string): string {
  const where = condition ? ` ${condition}` : '';
  return (
    `SELECT COUNT(*) AS n, COALESCE(SUM(${rowChecksumExpression(layout.columns)}), 0) AS s ` +
    `FROM ${quoteIdentifier(layout.table)}${where}`
  );
}

/** One chunk's answer. */
export interface ChunkResult {
  readonly table: string;
  readonly rows: bigint;
  readonly sum: bigint;
}

/** Adds chunk answers up per table, as the manifest and the verification record them. Pure. */
export function addChunks(
  tables: readonly string[],
  chunks: readonly ChunkResult[],
): Record<string, TableStat> {
  const totals = new Map(tables.map((t) => [t, { rows: 0n, sum: 0n }]));
  for (const chunk of chunks) {
    const total = totals.get(chunk.table);
    if (!total) throw new RangeError(`a chunk of ${chunk.table}, which was not asked for`);
    total.rows += chunk.rows;
    total.sum += chunk.sum;
  }
  const stats: Record<string, TableStat> = {};
  for (const [table, total] of totals) {
    stats[table] = { rows: Number(total.rows), checksum: total.sum.toString() };
  }
  return stats;
}

const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'bigint']);

/** Columns, chunk key and size of the named tables of the connection's current schema. */
export async function readLayouts(
  conn: Connection,
  tables: readonly string[],
): Promise<TableLayout[]> {
  if (tables.length === 0) return [];
  const [columns] = await conn.query<RowDataPacket[]>(
    'SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS ' +
      'WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION',
  );
  const [keys] = await conn.query<RowDataPacket[]>(
    'SELECT s.TABLE_NAME AS t, s.COLUMN_NAME AS c, c.DATA_TYPE AS type ' +
      'FROM information_schema.STATISTICS s JOIN information_schema.COLUMNS c ' +
      'ON c.TABLE_SCHEMA = s.TABLE_SCHEMA AND c.TABLE_NAME = s.TABLE_NAME AND c.COLUMN_NAME = s.COLUMN_NAME ' +
      "WHERE s.TABLE_SCHEMA = DATABASE() AND s.INDEX_NAME = 'PRIMARY' AND s.SEQ_IN_INDEX = 1",
  );
  const [sizes] = await conn.query<RowDataPacket[]>(
    'SELECT TABLE_NAME AS t, DATA_LENGTH AS bytes FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()',
  );
  const text = (v: unknown) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v));
  const columnsOf = new Map<string, string[]>();
  for (const row of columns) {
    const list = columnsOf.get(text(row.t)) ?? [];
    list.push(text(row.c));
    columnsOf.set(text(row.t), list);
  }
  const keyOf = new Map(
    keys
      .filter((row) => INTEGER_TYPES.has(text(row.type).toLowerCase()))
      .map((row) => [text(row.t), text(row.c)]),
  );
  const sizeOf = new Map(sizes.map((row) => [text(row.t), Number(row.bytes ?? 0)]));
  return tables.map((table) => ({
    table,
    columns: columnsOf.get(table) ?? [],
    chunkKey: keyOf.get(table) ?? null,
    dataBytes: sizeOf.get(table) ?? 0,
  }));
}

async function chunkPlan(conn: Connection, layout: TableLayout): Promise<Chunk[]> {
  const chunks = chunkCount(layout.dataBytes);
  if (!layout.chunkKey || chunks === 1) return [{ layout, condition: '' }];
  const key = quoteIdentifier(layout.chunkKey);
  const [range] = await conn.query<RowDataPacket[]>(
    `SELECT MIN(${key}) AS lo, MAX(${key}) AS hi FROM ${quoteIdentifier(layout.table)}`,
  );
  const lo = range[0]?.lo;
  const hi = range[0]?.hi;
  if (lo === null || lo === undefined || hi === null || hi === undefined) {
    return [{ layout, condition: '' }];
  }
  const boundaries = chunkBoundaries(BigInt(String(lo)), BigInt(String(hi)), chunks);
  return chunkConditions(layout.chunkKey, boundaries).map((condition) => ({ layout, condition }));
}

/** More connections to read with, besides the one given, and how many in all. */
export interface ExtraReaders {
  readonly openMore: () => Promise<Connection>;
  readonly parallelism: number;
}

/**
 * Runs `use` with `conn` and, given `readers`, `readers.parallelism - 1` more connections from
 * `readers.openMore`, which it closes however `use` ends. `conn` stays open (its owner closes it).
 */
export async function withReaders<T>(
  conn: Connection,
  readers: ExtraReaders | undefined,
  use: (connections: readonly Connection[]) => Promise<T>,
): Promise<T> {
  const connections: Connection[] = [conn];
  try {
    const extra = readers ? Math.max(0, readers.parallelism - 1) : 0;
    for (let i = 0; i < extra; i++) {
      // A server at its connection limit still answers the ones already open: read with those.
      const more = await (readers as ExtraReaders).openMore().catch(() => undefined);
      if (!more) break;
      connections.push(more);
    }
    return await use(connections);
  } finally {
    await Promise.all(connections.slice(1).map((c) => c.end().catch(() => undefined)));
  }
}

/**
 * Runs `jobs` over the connections, each taking the next job when its last one is done; the
 * answers in the jobs' order. The first failure stops the hand-out and is thrown.
 */
export async function runJobs<T>(
  connections: readonly Connection[],
  jobs: readonly ((conn: Connection) => Promise<T>)[],
): Promise<T[]> {
  const answers: T[] = new Array(jobs.length);
  let next = 0;
  let failed = false;
  await Promise.all(
    connections.slice(0, Math.max(1, jobs.length)).map(async (conn) => {
      while (!failed && next < jobs.length) {
        const index = next++;
        try {
          answers[index] = await (jobs[index] as (conn: Connection) => Promise<T>)(conn);
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    }),
  );
  return answers;
}

/** One key range of a table (`condition` empty: the whole table). */
export interface Chunk {
  readonly layout: TableLayout;
  readonly condition: string;
}

/**
 * The chunks `tables` are read in, the biggest tables first (so no connection starts a long
 * chunk while the others idle); their key ranges are looked up over all the connections.
 */
export async function planChunks(
  connections: readonly Connection[],
  tables: readonly string[],
): Promise<Chunk[]> {
  const [first] = connections;
  if (!first) throw new RangeError('reading tables needs a connection');
  const layouts = await readLayouts(first, tables);
  const ordered = [...layouts].sort((a, b) => b.dataBytes - a.dataBytes);
  const plans = await runJobs(
    connections,
    ordered.map((layout) => (conn: Connection) => chunkPlan(conn, layout)),
  );
  return plans.flat();
}

/**
 * Row counts and content checksums of `tables`, read in key-range chunks shared among the
 * connections (whose session time zone it sets to UTC). One connection gives the same
 * result, one chunk after another.
 */
export async function contentStats(
  connections: readonly Connection[],
  tables: readonly string[],
): Promise<Record<string, TableStat>> {
  // TIMESTAMP columns read as text in the session's zone: the same zone on both databases.
  await Promise.all(connections.map((c) => c.query("SET time_zone = '+00:00'")));
  const chunks = await planChunks(connections, tables);
  const results = await runJobs(
    connections,
    chunks.map((chunk) => async (conn: Connection): Promise<ChunkResult> => {
      const [rows] = await conn.query<RowDataPacket[]>(chunkQuery(chunk.layout, chunk.condition));
      return {
        table: chunk.layout.table,
        rows: BigInt(String(rows[0]?.n ?? 0)),
        sum: BigInt(String(rows[0]?.s ?? 0)),
      };
    }),
  );
  return addChunks(tables, results);
}
