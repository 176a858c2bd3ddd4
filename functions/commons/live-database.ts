/**
 * One connection to the live database for the steps that read it (RecordSnapshotManifest,
 * CompareSchema): opened, used and always closed, with failures named by endpoint and the
 * driver's code (never the password, which only the connection options hold).
 */

import type { Connection } from 'mysql2/promise';
import * as z from 'zod';
import { numberVariable, stringVariable } from '#commons/env.ts';
import { NamedError } from '#commons/errors.ts';

/**
 * The variables of a step that reads the live database: its login, endpoint and WordPress
 * table prefix, all set by the construct's bindLiveDatabase(). A step's `environmentSchema`
 * extends it with its own.
 */
export const liveDatabaseEnvironment = z.object({
  DATABASE_SECRET_ARN: stringVariable(),
  DATABASE_NAME: stringVariable(),
  DATABASE_HOST: stringVariable(),
  DATABASE_PORT: numberVariable(),
  TABLE_PREFIX: stringVariable(),
});

/** The live database could not be read; the message says where and why (never the password). */
export class LiveDatabaseError extends NamedError {
  override readonly name = 'LiveDatabaseError';
}

/** `ETIMEDOUT: connect ETIMEDOUT …` or `<name>: <message>`. */
export function driverDetail(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: string }).code;
  return code ? `${code}: ${error.message}` : `${error.name}: ${error.message}`;
}

/**
 * Opens the live database, runs `use` on it and closes the connection. Connection and query
 * failures become LiveDatabaseError naming `where` (host:port).
 */
export async function withLiveDatabase<T>(
  open: () => Promise<Connection>,
  where: string,
  use: (conn: Connection) => Promise<T>,
): Promise<T> {
  let conn: Connection;
  try {
    conn = await open();
  } catch (error) {
    throw new LiveDatabaseError(
      `cannot connect to the live database at ${where}: ${driverDetail(error)}`,
      { cause: error },
    );
  }
  try {
    return await use(conn);
  } catch (error) {
    throw new LiveDatabaseError(
      `cannot read the live database at ${where}: ${driverDetail(error)}`,
      { cause: error },
    );
  } finally {
    await conn.end().catch(() => undefined);
  }
}
