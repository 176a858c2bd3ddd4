import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import type { Connection, ConnectionOptions } from 'mysql2/promise';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { coreTables, type SnapshotManifest } from '#commons/verify-data-checks.ts';
import { type FakeTable, fakeConnection } from '../fake-mysql.ts';
import { lambdaContext } from './context.ts';

vi.hoisted(() => {
  process.env.DATABASE_SECRET_ARN =
    'arn:aws:secretsmanager:us-east-1:123456789012:secret:stepdeploy-db-AbCdEf';
  process.env.DATABASE_NAME = 'wordpress';
  process.env.LIVE_DATABASE_HOST = 'stepdeploy-wordpress.c9akciq32.us-east-1.rds.amazonaws.com';
  process.env.LIVE_DATABASE_PORT = '3306';
  process.env.MANIFEST_BUCKET = 'stepdeploy-manifests';
  process.env.MANIFEST_PREFIX = 'manifests/';
  process.env.TABLE_PREFIX = 'wp_';
  process.env.ROW_COUNT_TOLERANCE = '0.1';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});

// The databases the handler may open, by host; any other host refuses the connection.
const databases = vi.hoisted(() => ({
  byHost: new Map<string, Connection>(),
  opened: [] as ConnectionOptions[],
}));
vi.mock('mysql2/promise', async (importOriginal) => ({
  ...(await importOriginal<typeof import('mysql2/promise')>()),
  createConnection: async (options: ConnectionOptions) => {
    databases.opened.push(options);
    const conn = databases.byHost.get(options.host ?? '');
    if (!conn) {
      throw Object.assign(new Error(`connect ECONNREFUSED ${options.host}:${options.port}`), {
        code: 'ECONNREFUSED',
      });
    }
    return conn;
  },
}));

const { handler } = await import('#functions/verify-data/handler.ts');
const { SCRATCH_READERS } = await import('#commons/table-content.ts');
const s3 = mockClient(S3Client);
const secrets = mockClient(SecretsManagerClient);

const SNAPSHOT = 'rds:stepdeploy-wordpress-2026-02-01-03-10';
const SCRATCH = 'stepdeploy-scratch-3f9a1c.c9akciq32.us-east-1.rds.amazonaws.com';
const PASSWORD = 'rds-generated-Pa55word!';
const TABLES = coreTables('wp_');
const event = { snapshotId: SNAPSHOT, scratch: { host: SCRATCH, port: 3306 } };
const wordpress = (rows: Partial<Record<string, number>> = {}): Record<string, FakeTable> =>
  Object.fromEntries(TABLES.map((t) => [t, { columns: ['id'], rows: rows[t] ?? 12 }]));
/** The manifest RecordSnapshotManifest wrote when the snapshot was taken (the fake's CRC sums). */
const manifest: SnapshotManifest = {
  snapshotId: SNAPSHOT,
  createdAt: '2026-02-01T03:10:00.000Z',
  checksumMethod: 'row-crc32',
  tables: Object.fromEntries(TABLES.map((t) => [t, { rows: 12, checksum: '25769803764' }])),
};
/** One recorded before manifests named their method: `CHECKSUM TABLE` values. */
const olderManifest: SnapshotManifest = {
  snapshotId: SNAPSHOT,
  createdAt: '2026-02-01T03:10:00.000Z',
  tables: Object.fromEntries(TABLES.map((t) => [t, { rows: 12, checksum: '42' }])),
};

beforeEach(() => {
  s3.reset();
  secrets.reset();
  databases.byHost.clear();
  databases.opened.length = 0;
  // The secret RDS generates for the instance (CDK DatabaseSecret): the restored copy keeps it.
  secrets.on(GetSecretValueCommand).resolves({
    ARN: process.env.DATABASE_SECRET_ARN,
    Name: 'stepdeploy-db',
    SecretString: JSON.stringify({
      username: 'admin',
      password: PASSWORD,
      engine: 'mysql',
      host: process.env.LIVE_DATABASE_HOST,
      port: 3306,
      dbname: 'wordpress',
      dbInstanceIdentifier: 'stepdeploy-wordpress',
    }),
  });
});

describe('VerifyData handler', () => {
  it.each([
    { name: 'row CRC32 sums read by every reader', recorded: manifest, statement: /CRC32/ },
    { name: 'CHECKSUM TABLE (older)', recorded: olderManifest, statement: /^CHECKSUM TABLE / },
  ])(
    'returns the verdict of the checks on the scratch instance against the manifest: $name',
    async ({ recorded, statement }) => {
      // Prepare
      s3.on(GetObjectCommand).resolves({
        Body: { transformToString: async () => JSON.stringify(recorded) } as never,
      });
      const scratch = fakeConnection(wordpress());
      databases.byHost.set(SCRATCH, scratch);
      // Act
      const out = await handler(event, lambdaContext('VerifyData'));
      // Assess
      expect(out).toEqual({
        passed: true,
        mode: 'manifest',
        checkedTables: [...TABLES].sort(),
        failures: [],
        connectedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      });
      expect(s3).toHaveReceivedCommandWith(GetObjectCommand, {
        Bucket: 'stepdeploy-manifests',
        Key: `manifests/${SNAPSHOT}.json`,
      });
      expect(databases.opened).toEqual(
        new Array(SCRATCH_READERS).fill(
          expect.objectContaining({
            host: SCRATCH,
            port: 3306,
            user: 'admin',
            password: PASSWORD,
            database: 'wordpress',
          }),
        ),
      );
      expect(scratch.sent.some((sql) => statement.test(sql))).toBe(true);
      expect(scratch.ended).toBe(true);
    },
  );

  it('throws DataVerificationError naming the failed check, never a passing verdict', async () => {
    // Prepare: the restore lost every post
    s3.on(GetObjectCommand).resolves({
      Body: { transformToString: async () => JSON.stringify(manifest) } as never,
    });
    databases.byHost.set(SCRATCH, fakeConnection(wordpress({ wp_posts: 0 })));
    // Act
    const error = await handler(event, lambdaContext('VerifyData')).catch((e: unknown) => e);
    // Assess
    expect(error).toMatchObject({
      name: 'DataVerificationError',
      message: 'data checks failed: RowCountMismatch:wp_posts expected 12 got 0',
      failures: ['RowCountMismatch:wp_posts expected 12 got 0'],
    });
  });

  it('without a manifest compares with the live database within the tolerance', async () => {
    // Prepare
    s3.on(GetObjectCommand).rejects(
      new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} }),
    );
    databases.byHost.set(SCRATCH, fakeConnection(wordpress()));
    databases.byHost.set(
      process.env.LIVE_DATABASE_HOST as string,
      fakeConnection(wordpress({ wp_posts: 13 })),
    );
    // Act
    const out = await handler(event, lambdaContext('VerifyData'));
    // Assess
    expect(out).toMatchObject({ passed: true, mode: 'live', failures: [] });
    expect(databases.opened.map((o) => o.host)).toEqual([
      ...new Array(SCRATCH_READERS).fill(SCRATCH),
      process.env.LIVE_DATABASE_HOST,
    ]);
  });

  it('names an unreachable scratch instance ScratchUnreachableError (the ASL retries it)', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({
      Body: { transformToString: async () => JSON.stringify(manifest) } as never,
    });
    // Act
    const error = (await handler(event, lambdaContext('VerifyData')).catch(
      (e: unknown) => e,
    )) as Error;
    // Assess
    expect(error.name).toBe('ScratchUnreachableError');
    expect(error.message).toBe(
      `cannot connect to the scratch database: Error: connect ECONNREFUSED ${SCRATCH}:3306`,
    );
    expect(error.message).not.toContain(PASSWORD);
  });

  it.each([
    [{ snapshotId: SNAPSHOT, scratch: { host: SCRATCH, port: 0 } }, /port/],
    [{ scratch: { host: SCRATCH, port: 3306 } }, /snapshotId/],
  ])('refuses %j before any AWS call (ParseError)', async (input, field) => {
    // Prepare / Act
    const error = (await handler(input as never, lambdaContext('VerifyData')).catch(
      (e: unknown) => e,
    )) as Error & { cause?: unknown };
    // Assess
    expect(error.name).toBe('ParseError');
    expect(JSON.stringify(error.cause)).toMatch(field);
    expect(secrets.calls()).toHaveLength(0);
    expect(s3.calls()).toHaveLength(0);
    expect(databases.opened).toHaveLength(0);
  });
});
