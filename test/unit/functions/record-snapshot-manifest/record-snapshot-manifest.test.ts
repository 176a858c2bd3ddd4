import {
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { TransientAwsError } from '#commons/errors.ts';
import type { SnapshotManifest } from '#commons/verify-data-checks.ts';
import { collectManifest, parseManifest } from '#commons/verify-manifest.ts';
import { CORE_TABLES, fakeConnection } from '../fake-mysql.ts';
import { lambdaContext } from '../handlers/context.ts';

const SECRET = 'Sup3r-S3cret-Manifest-Pa55!';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:sd-db-AbCdEf';

vi.hoisted(() => {
  process.env.DATABASE_SECRET_ARN =
    'arn:aws:secretsmanager:us-east-1:123456789012:secret:sd-db-AbCdEf';
  process.env.DATABASE_NAME = 'wordpress';
  // Loopback port 1: nothing listens there, so a connection is refused at once.
  process.env.DATABASE_HOST = '127.0.0.1';
  process.env.DATABASE_PORT = '1';
  process.env.MANIFEST_BUCKET = 'sd-manifests';
  process.env.MANIFEST_PREFIX = 'manifests/';
  process.env.TABLE_PREFIX = 'wp_';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});

const steps = await import('#functions/record-snapshot-manifest/record-snapshot-manifest.ts');
const { handler } = await import('#functions/record-snapshot-manifest/handler.ts');
const s3 = mockClient(S3Client);
const secrets = mockClient(SecretsManagerClient);

const manifest = (snapshotId: string): SnapshotManifest => ({
  snapshotId,
  createdAt: '2026-02-01T10:00:00.000Z',
  tables: {
    wp_options: { rows: 150, checksum: '1234567890123456789' },
    wp_posts: { rows: 12, checksum: '42' },
  },
});
// GetObject's Body as the SDK hands it back: a stream with the transformToString mixin.
const body = (value: unknown) => ({ transformToString: async () => JSON.stringify(value) });
const noSuchKey = () =>
  new NoSuchKey({
    message: 'The specified key does not exist.',
    $metadata: { httpStatusCode: 404 },
  });
const s3Error = (name: string, status: number) =>
  new S3ServiceException({
    name,
    $fault: 'client',
    message: name,
    $metadata: { httpStatusCode: status },
  });

const settings = { bucket: 'sd-manifests', prefix: 'manifests/' };
const awsDeps = (collect: (id: string, at: Date) => Promise<SnapshotManifest>) => ({
  readExisting: async (key: string) => {
    const { readManifestObject } = await import('#commons/verify-aws.ts');
    return readManifestObject(settings.bucket, key);
  },
  collect,
  putIfAbsent: (key: string, m: SnapshotManifest) =>
    steps.putManifestIfAbsent(settings.bucket, key, m),
  now: () => new Date('2026-02-01T10:00:00.000Z'),
});

beforeEach(() => {
  s3.reset();
  secrets.reset();
});

describe('keepExisting / describeManifest (pure)', () => {
  it.each([
    ['no manifest yet: record one', undefined, 'r-1', 'record'],
    ['the same snapshot (a retry): keep it', manifest('r-1'), 'r-1', 'keep'],
    ['another snapshot: conflict', manifest('r-0'), 'r-1', 'conflict'],
  ] as const)('%s', (_name, existing, snapshotId, want) => {
    // Prepare
    const decide = () => steps.keepExisting(existing, snapshotId, `manifests/${snapshotId}.json`);
    // Act / Assess
    if (want === 'conflict') {
      expect(decide).toThrow(/holds the manifest of r-0, not r-1/);
      expect(decide).toThrow(steps.ManifestConflictError);
    } else if (want === 'keep') expect(decide()).toBe(existing);
    else expect(decide()).toBeUndefined();
  });

  it('describes the stored manifest by its S3 location, table count and time', () => {
    // Prepare / Act
    const out = steps.describeManifest('b', 'manifests/r-1.json', manifest('r-1'), 'recorded');
    // Assess
    expect(out).toEqual({
      snapshotId: 'r-1',
      location: 's3://b/manifests/r-1.json',
      consistency: 'before-snapshot',
      state: 'recorded',
      tables: 2,
      createdAt: '2026-02-01T10:00:00.000Z',
    });
  });
});

describe('collectManifest / parseManifest', () => {
  it('records row counts, checksums and the schema: db_version and every table with its columns', async () => {
    // Prepare: the live database as mysql2 answers (db_version in a binary-collated longtext)
    const conn = fakeConnection(
      { ...CORE_TABLES, wp_shop_log: { columns: ['id', 'note'], rows: 3 } },
      { dbVersion: Buffer.from('58975') },
    );
    // Act
    const recorded = await steps.collectLiveManifest(
      async () => conn,
      'db:3306',
      'r-1',
      new Date('2026-02-01T10:00:00.000Z'),
      'wp_',
    );
    // Assess
    expect(recorded).toEqual({
      snapshotId: 'r-1',
      createdAt: '2026-02-01T10:00:00.000Z',
      checksumMethod: 'row-crc32',
      // The fake sums CRC32s to rows x 2147483647.
      tables: {
        wp_options: { rows: 150, checksum: '322122547050' },
        wp_posts: { rows: 12, checksum: '25769803764' },
        wp_shop_log: { rows: 3, checksum: '6442450941' },
      },
      schema: {
        dbVersion: '58975',
        tables: {
          wp_options: ['option_id', 'option_name', 'option_value', 'autoload'],
          wp_posts: ['ID', 'post_author', 'post_title', 'post_status'],
          wp_shop_log: ['id', 'note'],
        },
      },
    });
    expect(conn.ended).toBe(true);
    expect(parseManifest(JSON.stringify(recorded))).toEqual(recorded);
  });

  it('reads db_version from the options table of the given prefix only', async () => {
    // Prepare: a site installed with the prefix blog_, read with blog_ and with wp_
    const tables = { blog_options: CORE_TABLES.wp_options, blog_posts: CORE_TABLES.wp_posts };
    // Act
    const right = await collectManifest(
      fakeConnection(tables, { dbVersion: '60421' }),
      'r-1',
      undefined,
      'blog_',
    );
    const wrong = await collectManifest(fakeConnection(tables, { dbVersion: '60421' }), 'r-1');
    // Assess
    expect(right.schema?.dbVersion).toBe('60421');
    expect(wrong.schema).toMatchObject({ dbVersion: null });
    expect(Object.keys(wrong.schema?.tables ?? {})).toEqual(['blog_options', 'blog_posts']);
  });

  it('records db_version null on a database WordPress is not installed on', async () => {
    // Prepare / Act
    const recorded = await collectManifest(fakeConnection({}), 'r-1');
    // Assess
    expect(recorded.schema).toEqual({ dbVersion: null, tables: {} });
  });

  it('still parses a manifest recorded before manifests held the schema (VerifyData reads it)', () => {
    // Prepare
    const old = JSON.stringify(manifest('r-0'));
    // Act
    const parsed = parseManifest(old);
    // Assess
    expect(parsed).toEqual(manifest('r-0'));
    expect(parsed.schema).toBeUndefined();
  });

  it('refuses a schema whose tables are not lists of column names, naming the field', () => {
    // Prepare
    const bad = JSON.stringify({
      ...manifest('r-1'),
      schema: { dbVersion: '58975', tables: { wp_posts: 'ID' } },
    });
    // Act / Assess
    expect(() => parseManifest(bad)).toThrow(/schema/);
  });
});

describe('recordSnapshotManifest with S3', () => {
  it('collects the live manifest and writes it once, under manifestKey, where VerifyData reads it', async () => {
    // Prepare
    s3.on(GetObjectCommand).rejects(noSuchKey());
    s3.on(PutObjectCommand).resolves({ ETag: '"abc"' });
    const collect = vi.fn(async (id: string) => manifest(id));
    // Act
    const out = await steps.recordSnapshotManifest(
      { snapshotId: 'stepdeploy-release-r-1' },
      settings,
      awsDeps(collect),
    );
    // Assess
    expect(collect).toHaveBeenCalledOnce();
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'sd-manifests',
      Key: 'manifests/stepdeploy-release-r-1.json',
      IfNoneMatch: '*',
      ContentType: 'application/json',
    });
    const written = s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Body as string;
    expect(parseManifest(written)).toEqual(manifest('stepdeploy-release-r-1'));
    expect(out).toMatchObject({
      location: 's3://sd-manifests/manifests/stepdeploy-release-r-1.json',
      state: 'recorded',
      tables: 2,
    });
  });

  it('keeps a manifest a previous attempt stored, without touching the database', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({ Body: body(manifest('r-1')) as never });
    const collect = vi.fn(async (id: string) => manifest(id));
    // Act
    const out = await steps.recordSnapshotManifest(
      { snapshotId: 'r-1' },
      settings,
      awsDeps(collect),
    );
    // Assess
    expect(collect).not.toHaveBeenCalled();
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(out).toMatchObject({ state: 'kept', tables: 2 });
  });

  it('refuses to overwrite another snapshot manifest under the same key', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({ Body: body(manifest('r-0')) as never });
    // Act
    const run = steps.recordSnapshotManifest(
      { snapshotId: 'r-1' },
      settings,
      awsDeps(async (id) => manifest(id)),
    );
    // Assess
    await expect(run).rejects.toThrow(steps.ManifestConflictError);
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it('settles a race with a concurrent attempt through the conditional put (412)', async () => {
    // Prepare
    s3.on(GetObjectCommand)
      .rejectsOnce(noSuchKey())
      .resolves({ Body: body(manifest('r-1')) as never });
    s3.on(PutObjectCommand).rejects(s3Error('PreconditionFailed', 412));
    // Act
    const out = await steps.recordSnapshotManifest(
      { snapshotId: 'r-1' },
      settings,
      awsDeps(async (id) => manifest(id)),
    );
    // Assess
    expect(out).toMatchObject({ state: 'kept', snapshotId: 'r-1' });
    expect(s3).toHaveReceivedCommandTimes(GetObjectCommand, 2);
  });

  it.each([
    ['a concurrent conditional write (409)', s3Error('ConditionalRequestConflict', 409)],
    ['throttling (503 SlowDown)', s3Error('SlowDown', 503)],
  ])('turns %s into TransientAwsError, which the ASL retries', async (_name, error) => {
    // Prepare
    s3.on(GetObjectCommand).rejects(noSuchKey());
    s3.on(PutObjectCommand).rejects(error);
    // Act
    const run = steps.recordSnapshotManifest(
      { snapshotId: 'r-1' },
      settings,
      awsDeps(async (id) => manifest(id)),
    );
    // Assess
    await expect(run).rejects.toThrow(TransientAwsError);
  });

  it('does not retry a denied write', async () => {
    // Prepare
    s3.on(GetObjectCommand).rejects(noSuchKey());
    s3.on(PutObjectCommand).rejects(s3Error('AccessDenied', 403));
    // Act
    const run = steps.recordSnapshotManifest(
      { snapshotId: 'r-1' },
      settings,
      awsDeps(async (id) => manifest(id)),
    );
    // Assess
    await expect(run).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});

describe('RecordSnapshotManifest handler', () => {
  it('refuses a malformed snapshot id before any AWS call', async () => {
    // Prepare / Act
    const error = (await handler(
      { snapshotId: '../etc/passwd' } as never,
      lambdaContext('record'),
    ).catch((e: unknown) => e)) as Error & { cause?: unknown };
    // Assess
    expect(error.name).toBe('ParseError');
    expect(JSON.stringify(error.cause)).toMatch(/snapshotId must be an RDS snapshot identifier/);
    expect(s3.calls()).toHaveLength(0);
    expect(secrets.calls()).toHaveLength(0);
  });

  it('answers a retry from the stored manifest without reading the secret', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({ Body: body(manifest('r-1')) as never });
    // Act
    const out = await handler({ snapshotId: 'r-1' }, lambdaContext('record'));
    // Assess
    expect(out).toMatchObject({
      location: 's3://sd-manifests/manifests/r-1.json',
      state: 'kept',
    });
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, {
      Bucket: 'sd-manifests',
      Key: 'manifests/r-1.json',
    });
    expect(secrets.calls()).toHaveLength(0);
  });

  it('names the live endpoint when the database cannot be read, never the password', async () => {
    // Prepare
    s3.on(GetObjectCommand).rejects(noSuchKey());
    secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({
      SecretString: JSON.stringify({ username: 'admin', password: SECRET }),
    });
    // Act
    const error = await handler({ snapshotId: 'r-1' }, lambdaContext('record')).catch(
      (e: unknown) => e as Error,
    );
    // Assess
    expect(error).toMatchObject({ name: 'LiveDatabaseError' });
    expect((error as Error).message).toMatch(/live database at 127\.0\.0\.1:1:/);
    expect(JSON.stringify(error)).not.toContain(SECRET);
    expect(String((error as Error).message)).not.toContain(SECRET);
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });
});
