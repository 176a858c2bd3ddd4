/**
 * The database schema a release found and the one it left, and what a rollback leaves behind.
 * Pure: the SQL that reads a schema is `readSchema` in verify-data-sql.ts, shared by the
 * Lambdas (RecordSnapshotManifest, CompareSchema) and local mode, so both sides describe a
 * schema the same way.
 *
 * A rollback puts the previous code back, never the previous schema: a release whose code
 * created a table or added a column on its first load leaves them behind. The pre-release
 * snapshot is what undoes that, so the outcome names it.
 */
import * as z from 'zod';

/** WordPress's table prefix when WORDPRESS_TABLE_PREFIX is not set (the image's default too). */
export const DEFAULT_TABLE_PREFIX = 'wp_';

/** A database schema: WordPress's `db_version` option and every base table with its columns. */
export interface DatabaseSchema {
  /** `<prefix>options.db_version`; null when there is no options table (not installed yet). */
  readonly dbVersion: string | null;
  /** Base table name → its column names in their ordinal order. */
  readonly tables: Readonly<Record<string, readonly string[]>>;
}

/** zod schema of {@link DatabaseSchema}, as manifests store it. */
export const DatabaseSchemaSchema = z.object({
  dbVersion: z.string().nullable(),
  tables: z.record(z.string().min(1), z.array(z.string().min(1))),
});

/** One row of `information_schema.COLUMNS` as readSchema selects it. */
export interface ColumnRow {
  readonly table: string;
  readonly column: string;
}

/**
 * The schema from column rows (ordered by table and ordinal position) and the db_version
 * value; tables sorted by name so two reads of the same schema are equal. Pure.
 */
export function schemaFromColumns(
  rows: readonly ColumnRow[],
  dbVersion: string | null,
): DatabaseSchema {
  const byTable = new Map<string, string[]>();
  for (const { table, column } of rows) {
    const columns = byTable.get(table) ?? [];
    columns.push(column);
    byTable.set(table, columns);
  }
  const tables: Record<string, string[]> = {};
  for (const name of [...byTable.keys()].sort()) tables[name] = byTable.get(name) ?? [];
  return { dbVersion, tables };
}

/** The WordPress options table of a table prefix (where `db_version` lives). */
export function optionsTable(tablePrefix: string): string {
  return `${tablePrefix}options`;
}

/** Small figures of a schema for records and step outputs (the full schema is in the manifest). */
export interface SchemaSummary {
  readonly dbVersion: string | null;
  readonly tables: number;
}

/** {@link SchemaSummary} of a schema. Pure. */
export function summarizeSchema(schema: DatabaseSchema): SchemaSummary {
  return { dbVersion: schema.dbVersion, tables: Object.keys(schema.tables).length };
}

/**
 * What changed from one schema to another. Columns are `table.column`; the columns of an added
 * or removed table are not listed again as added or removed columns.
 */
export interface SchemaChange {
  readonly changed: boolean;
  readonly dbVersion: { readonly before: string | null; readonly after: string | null };
  readonly tablesAdded: readonly string[];
  readonly tablesRemoved: readonly string[];
  readonly columnsAdded: readonly string[];
  readonly columnsRemoved: readonly string[];
}

/** zod schema of {@link SchemaChange} (step outputs). */
export const SchemaChangeSchema = z.object({
  changed: z.boolean(),
  dbVersion: z.object({ before: z.string().nullable(), after: z.string().nullable() }),
  tablesAdded: z.array(z.string()).readonly(),
  tablesRemoved: z.array(z.string()).readonly(),
  columnsAdded: z.array(z.string()).readonly(),
  columnsRemoved: z.array(z.string()).readonly(),
});

/** The change from `before` (the schema the release found) to `after` (the one it left). Pure. */
export function schemaChange(before: DatabaseSchema, after: DatabaseSchema): SchemaChange {
  const had = new Set(Object.keys(before.tables));
  const has = new Set(Object.keys(after.tables));
  const tablesAdded = [...has].filter((t) => !had.has(t)).sort();
  const tablesRemoved = [...had].filter((t) => !has.has(t)).sort();
  const columnsAdded: string[] = [];
  const columnsRemoved: string[] = [];
  for (const table of [...has].filter((t) => had.has(t)).sort()) {
    const old = new Set(before.tables[table]);
    const now = new Set(after.tables[table]);
    for (const column of now) if (!old.has(column)) columnsAdded.push(`${table}.${column}`);
    for (const column of old) if (!now.has(column)) columnsRemoved.push(`${table}.${column}`);
  }
  return {
    changed:
      before.dbVersion !== after.dbVersion ||
      tablesAdded.length + tablesRemoved.length + columnsAdded.length + columnsRemoved.length > 0,
    dbVersion: { before: before.dbVersion, after: after.dbVersion },
    tablesAdded,
    tablesRemoved,
    columnsAdded: columnsAdded.sort(),
    columnsRemoved: columnsRemoved.sort(),
  };
}

/** Names beyond this many are counted, not listed, so a message stays readable (the record lists all). */
export const LISTED_NAMES = 10;

function listed(names: readonly string[]): string {
  if (names.length <= LISTED_NAMES) return names.join(', ');
  return `${names.slice(0, LISTED_NAMES).join(', ')} and ${names.length - LISTED_NAMES} more`;
}

/**
 * A change in words: `db_version 58975 → 60421; tables added: wp_log; columns added:
 * wp_posts.flag` (an unchanged db_version is said as such; empty lists are left out). Pure.
 */
export function describeSchemaChange(change: SchemaChange): string {
  const { before, after } = change.dbVersion;
  const parts = [
    before === after
      ? `db_version ${before ?? 'none'} unchanged`
      : `db_version ${before ?? 'none'} → ${after ?? 'none'}`,
  ];
  const lists: Array<[string, readonly string[]]> = [
    ['tables added', change.tablesAdded],
    ['tables removed', change.tablesRemoved],
    ['columns added', change.columnsAdded],
    ['columns removed', change.columnsRemoved],
  ];
  for (const [label, names] of lists)
    if (names.length > 0) parts.push(`${label}: ${listed(names)}`);
  return parts.join('; ');
}

/** The outcomes CompareSchema runs after: the new code ran against the database in each. */
export const SCHEMA_OUTCOMES = ['SUCCEEDED', 'ROLLED_BACK', 'FAILED', 'DIRTY'] as const;
export type SchemaOutcome = (typeof SCHEMA_OUTCOMES)[number];

/**
 * The sentence the release's message ends with (leading space included), or '' when there is
 * nothing to say: no change, or no baseline on a release that succeeded. Pure.
 *
 * - ROLLED_BACK with a change: the code was rolled back but the schema was not, and which
 *   snapshot undoes it;
 * - DIRTY with a change: the same warning, the rollback having failed too;
 * - FAILED (a trial task refused before any traffic) with a change: the trial's code made it;
 * - SUCCEEDED with a change: the change, since a later rollback past this release keeps it;
 * - a rollback (ROLLED_BACK, DIRTY) without a baseline: that whether it changed is unknown.
 */
export function schemaNote(
  outcome: SchemaOutcome,
  snapshotId: string,
  comparison: { readonly change: SchemaChange } | { readonly noBaseline: string },
): string {
  if ('noBaseline' in comparison) {
    if (outcome === 'SUCCEEDED') return '';
    return ` Whether the release changed the schema is not known (${comparison.noBaseline}); the pre-release snapshot ${snapshotId} holds the schema it found.`;
  }
  const { change } = comparison;
  if (!change.changed) return '';
  const what = describeSchemaChange(change);
  switch (outcome) {
    case 'SUCCEEDED':
      return ` The release changed the schema: ${what}.`;
    case 'ROLLED_BACK':
      return ` The code was rolled back but the schema was not: ${what}; restore the pre-release snapshot ${snapshotId} to undo it.`;
    case 'FAILED':
      // A trial task refused before any traffic still ran the new code on the live database.
      return ` The trial task's code changed the schema before it was refused: ${what}; restore the pre-release snapshot ${snapshotId} to undo it.`;
    case 'DIRTY':
      return ` The release changed the schema and nothing rolled it back: ${what}; the pre-release snapshot ${snapshotId} holds the schema it found.`;
  }
}
