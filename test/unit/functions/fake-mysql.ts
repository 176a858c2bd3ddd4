import type { Connection } from 'mysql2/promise';
import { SCHEMA_COLUMNS_SQL } from '#commons/verify-data-sql.ts';

/** A table of the fake database: its columns in order and how many rows it holds. */
export interface FakeTable {
  readonly columns: readonly string[];
  readonly rows?: number;
}

/**
 * A mysql2 Connection answering the statements the manifest and schema readers and VerifyData send, with
 * rows shaped as mysql2 returns them (aliased columns, numbers as strings with
 * bigNumberStrings, option_value possibly a Buffer). Anything else is refused, so a new
 * statement cannot pass unnoticed. `sent` records every statement.
 */
export function fakeConnection(
  tables: Readonly<Record<string, FakeTable>>,
  options: { readonly dbVersion?: string | Buffer; readonly database?: string } = {},
): Connection & { readonly sent: string[]; ended: boolean } {
  const database = options.database ?? 'wordpress';
  const sent: string[] = [];
  const names = Object.keys(tables).sort();
  const answer = (sql: string): unknown[] => {
    if (sql === SCHEMA_COLUMNS_SQL)
      return names.flatMap((table) =>
        (tables[table]?.columns ?? []).map((column) => ({
          table_name: table,
          column_name: column,
        })),
      );
    if (sql.startsWith('SELECT TABLE_NAME AS name FROM information_schema.TABLES'))
      return names.map((name) => ({ name }));
    if (sql.startsWith('SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS'))
      return names.flatMap((t) => (tables[t]?.columns ?? []).map((c) => ({ t, c })));
    if (sql.startsWith('SELECT s.TABLE_NAME AS t, s.COLUMN_NAME AS c, c.DATA_TYPE AS type'))
      return names.flatMap((t) => {
        const key = tables[t]?.columns[0];
        return key ? [{ t, c: key, type: 'bigint' }] : [];
      });
    if (
      sql.startsWith('SELECT TABLE_NAME AS t, DATA_LENGTH AS bytes FROM information_schema.TABLES')
    )
      // Small tables: one chunk each (the chunked reads are tested on a real server).
      return names.map((t) => ({ t, bytes: String(16_384) }));
    const chunk =
      /^SELECT COUNT\(\*\) AS n, COALESCE\(SUM\(CRC32\(.*\)\), 0\) AS s FROM `([^`]+)`$/.exec(sql);
    if (chunk) {
      const rows = tables[chunk[1] as string]?.rows ?? 0;
      return [{ n: String(rows), s: String(rows * 2_147_483_647) }];
    }
    if (sql === "SET time_zone = '+00:00'") return [];
    if (sql.startsWith('CHECKSUM TABLE'))
      return names.map((table) => ({ Table: `${database}.${table}`, Checksum: '42' }));
    if (sql.startsWith('CHECK TABLE '))
      return [...sql.matchAll(/`([^`]+)`/g)].map(([, table]) => ({
        Table: `${database}.${table}`,
        Op: 'check',
        Msg_type: 'status',
        Msg_text: 'OK',
      }));
    const count = /^SELECT COUNT\(\*\) AS n FROM `([^`]+)`$/.exec(sql);
    if (count) return [{ n: String(tables[count[1] as string]?.rows ?? 0) }];
    const option =
      /^SELECT option_value AS value FROM `([^`]+)` WHERE option_name = 'db_version' LIMIT 1$/.exec(
        sql,
      );
    if (option) {
      if (!((option[1] as string) in tables)) throw new Error(`Table '${option[1]}' doesn't exist`);
      return options.dbVersion === undefined ? [] : [{ value: options.dbVersion }];
    }
    throw new Error(`fake connection: unexpected statement ${sql}`);
  };
  const conn = {
    sent,
    ended: false,
    async query(sql: string) {
      sent.push(sql);
      return [answer(sql), []];
    },
    async end() {
      conn.ended = true;
    },
  };
  return conn as unknown as Connection & { readonly sent: string[]; ended: boolean };
}

/** WordPress 6.8's core options and posts tables, trimmed to a few columns each. */
export const CORE_TABLES: Readonly<Record<string, FakeTable>> = {
  wp_options: { columns: ['option_id', 'option_name', 'option_value', 'autoload'], rows: 150 },
  wp_posts: { columns: ['ID', 'post_author', 'post_title', 'post_status'], rows: 12 },
};
