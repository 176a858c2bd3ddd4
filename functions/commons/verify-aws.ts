/** Thin AWS helpers of the verify-restore steps: the database secret and the snapshot manifest. */
import { GetObjectCommand, NoSuchKey } from '@aws-sdk/client-s3';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { Connection } from 'mysql2/promise';
import type * as z from 'zod';
import { s3Client } from '#commons/clients/s3.ts';
import { secretsManagerClient } from '#commons/clients/secrets-manager.ts';
import type { liveDatabaseEnvironment } from './live-database.ts';
import type { SnapshotManifest } from './verify-data-checks.ts';
import { connectDatabase } from './verify-data-sql.ts';
import { parseManifest } from './verify-manifest.ts';

/** Database login from an RDS-generated secret; never log it. */
export interface DatabaseLogin {
  readonly username: string;
  readonly password: string;
  readonly dbname?: string;
}

/** Reads the RDS secret (JSON with username/password) by ARN. */
export async function readDatabaseLogin(secretArn: string): Promise<DatabaseLogin> {
  const out = await secretsManagerClient.send(new GetSecretValueCommand({ SecretId: secretArn }));
  const parsed = JSON.parse(out.SecretString ?? '{}') as Partial<DatabaseLogin>;
  if (typeof parsed.username !== 'string' || typeof parsed.password !== 'string') {
    // Name the secret, never its content.
    throw new Error(`secret ${secretArn} has no username/password fields`);
  }
  return { username: parsed.username, password: parsed.password, dbname: parsed.dbname };
}

/** Where a step's database is, and the secret holding its login. */
export interface LiveDatabase {
  readonly secretArn: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
}

/** The live database a step's environment names (liveDatabaseEnvironment, set by bindLiveDatabase()). */
export function liveDatabaseOf(env: z.output<typeof liveDatabaseEnvironment>): LiveDatabase {
  return {
    secretArn: env.DATABASE_SECRET_ARN,
    host: env.DATABASE_HOST,
    port: env.DATABASE_PORT,
    database: env.DATABASE_NAME,
  };
}

/**
 * Reads the database's login from its secret (errors as Secrets Manager raised them), then
 * gives the opener a step hands to its SQL helper, and `host:port` for its error messages.
 */
export async function liveDatabase(db: LiveDatabase): Promise<{
  readonly open: () => Promise<Connection>;
  readonly where: string;
}> {
  const login = await readDatabaseLogin(db.secretArn);
  return {
    open: () =>
      connectDatabase({
        host: db.host,
        port: db.port,
        user: login.username,
        password: login.password,
        database: db.database,
      }),
    where: `${db.host}:${db.port}`,
  };
}

/** The manifest stored at s3://bucket/key, or undefined when there is none. */
export async function readManifestObject(
  bucket: string,
  key: string,
): Promise<SnapshotManifest | undefined> {
  try {
    const out = await s3Client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return parseManifest((await out.Body?.transformToString('utf8')) ?? '');
  } catch (error) {
    if (error instanceof NoSuchKey) return undefined;
    if (error instanceof Error && error.name === 'NoSuchKey') return undefined;
    throw error;
  }
}
