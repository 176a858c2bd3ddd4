import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { SnapshotManifest } from '#commons/verify-data-checks.ts';
import { CompareSchemaOutputSchema } from '#functions/compare-schema/schema.ts';
import { CORE_TABLES, fakeConnection } from '../fake-mysql.ts';
import { lambdaContext } from '../handlers/context.ts';

const SECRET = 'Sup3r-S3cret-Schema-Pa55!';
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

const steps = await import('#functions/compare-schema/compare-schema.ts');
const { handler } = await import('#functions/compare-schema/handler.ts');
const { readManifestObject } = await import('#commons/verify-aws.ts');
const s3 = mockClient(S3Client);
const secrets = mockClient(SecretsManagerClient);

const SNAPSHOT = 'stepdeploy-release-r-7';
const columns = (tables: typeof CORE_TABLES) =>
  Object.fromEntries(Object.entries(tables).map(([name, t]) => [name, [...t.columns]]));
/** The manifest RecordSnapshotManifest wrote before the release (with or without a schema). */
const manifest = (withSchema = true, snapshotId = SNAPSHOT): SnapshotManifest => ({
  snapshotId,
  createdAt: '2026-02-01T10:00:00.000Z',
  tables: {
    wp_options: { rows: 150, checksum: '1234567890123456789' },
    wp_posts: { rows: 12, checksum: '42' },
  },
  ...(withSchema ? { schema: { dbVersion: '58975', tables: columns(CORE_TABLES) } } : {}),
});
const body = (value: unknown) => ({ transformToString: async () => JSON.stringify(value) });
const noSuchKey = () =>
  new NoSuchKey({
    message: 'The specified key does not exist.',
    $metadata: { httpStatusCode: 404 },
  });
/** The release's code added a table and a column on its first load, and bumped nothing. */
const CHANGED = {
  ...CORE_TABLES,
  wp_posts: { columns: [...(CORE_TABLES.wp_posts?.columns ?? []), 'shop_flag'] },
  wp_shop_log: { columns: ['id', 'note'] },
};
/** The step as the handler wires it, with the live database replaced by a fake connection. */
const compareWith =
  (live: ReturnType<typeof fakeConnection>) => (outcome: 'ROLLED_BACK' | 'SUCCEEDED' | 'DIRTY') =>
    steps.compareSchema(
      { snapshotId: SNAPSHOT, outcome },
      {
        loadManifest: (id) => readManifestObject('sd-manifests', `manifests/${id}.json`),
        readLive: () => steps.readLiveSchema(async () => live, 'db:3306', 'wp_'),
      },
    );

beforeEach(() => {
  s3.reset();
  secrets.reset();
});

describe('baselineOf / compareSchemas (pure)', () => {
  const live = { dbVersion: '58975', tables: columns(CHANGED) };
  it.each([
    ['no manifest', undefined, /no manifest was recorded for snapshot stepdeploy-release-r-7/],
    [
      "another snapshot's manifest",
      manifest(true, 'stepdeploy-release-r-6'),
      /is that of stepdeploy-release-r-6/,
    ],
    [
      'a manifest from before schemas',
      manifest(false),
      /recorded before manifests held the schema/,
    ],
  ] as const)('%s: NO_BASELINE, naming why', (_name, found, reason) => {
    // Prepare / Act
    const out = steps.compareSchemas({ snapshotId: SNAPSHOT, outcome: 'ROLLED_BACK' }, found, live);
    // Assess
    expect(out).toMatchObject({ status: 'NO_BASELINE', after: { dbVersion: '58975', tables: 3 } });
    expect(out.status === 'NO_BASELINE' && out.reason).toMatch(reason);
    expect(out.note).toMatch(/^ Whether the release changed the schema is not known/);
  });

  it('a baseline: READ with the change, both summaries and the note for the outcome', () => {
    // Prepare / Act
    const out = steps.compareSchemas(
      { snapshotId: SNAPSHOT, outcome: 'ROLLED_BACK' },
      manifest(),
      live,
    );
    // Assess
    expect(CompareSchemaOutputSchema.parse(out)).toEqual({
      status: 'READ',
      snapshotId: SNAPSHOT,
      before: { dbVersion: '58975', tables: 2 },
      after: { dbVersion: '58975', tables: 3 },
      change: {
        changed: true,
        dbVersion: { before: '58975', after: '58975' },
        tablesAdded: ['wp_shop_log'],
        tablesRemoved: [],
        columnsAdded: ['wp_posts.shop_flag'],
        columnsRemoved: [],
      },
      note: ` The code was rolled back but the schema was not: db_version 58975 unchanged; tables added: wp_shop_log; columns added: wp_posts.shop_flag; restore the pre-release snapshot ${SNAPSHOT} to undo it.`,
    });
  });
});

describe('compareSchema with S3 and the live database', () => {
  it('reads the manifest under manifestKey and the live schema, and names the change on a rollback', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({ Body: body(manifest()) as never });
    const live = fakeConnection(CHANGED, { dbVersion: '58975' });
    // Act
    const out = await compareWith(live)('ROLLED_BACK');
    // Assess
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, {
      Bucket: 'sd-manifests',
      Key: `manifests/${SNAPSHOT}.json`,
    });
    expect(out).toMatchObject({
      status: 'READ',
      change: { tablesAdded: ['wp_shop_log'], columnsAdded: ['wp_posts.shop_flag'] },
    });
    expect(out.note).toContain(`restore the pre-release snapshot ${SNAPSHOT} to undo it`);
    expect(live.ended).toBe(true);
  });

  it('an unchanged schema after a success: READ, nothing to say', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({ Body: body(manifest()) as never });
    // Act
    const out = await compareWith(fakeConnection(CORE_TABLES, { dbVersion: '58975' }))('SUCCEEDED');
    // Assess
    expect(out).toMatchObject({ status: 'READ', change: { changed: false }, note: '' });
  });

  it('a snapshot without a manifest object (404) has no baseline, and says so on a rollback', async () => {
    // Prepare
    s3.on(GetObjectCommand).rejects(noSuchKey());
    // Act
    const out = await compareWith(fakeConnection(CHANGED, { dbVersion: '58975' }))('DIRTY');
    // Assess
    expect(out).toMatchObject({
      status: 'NO_BASELINE',
      reason: `no manifest was recorded for snapshot ${SNAPSHOT}`,
    });
  });

  it('a denied manifest read fails the step (the ASL records the schema as not read)', async () => {
    // Prepare
    s3.on(GetObjectCommand).rejects(
      Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }),
    );
    // Act
    const run = compareWith(fakeConnection(CORE_TABLES))('ROLLED_BACK');
    // Assess
    await expect(run).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});

describe('CompareSchema handler', () => {
  it.each([
    [
      { snapshotId: '../etc/passwd', outcome: 'ROLLED_BACK' },
      /snapshotId must be an RDS snapshot identifier/,
    ],
    // Nothing deployed: the new code never ran, so the ASL never asks.
    [{ snapshotId: SNAPSHOT, outcome: 'REJECTED' }, /outcome/],
  ])('refuses %j before any AWS call', async (input, reason) => {
    // Prepare / Act
    const error = (await handler(input as never, lambdaContext('compare')).catch(
      (e: unknown) => e,
    )) as Error & { cause?: unknown };
    // Assess
    expect(error.name).toBe('ParseError');
    expect(JSON.stringify(error.cause)).toMatch(reason);
    expect(s3.calls()).toHaveLength(0);
    expect(secrets.calls()).toHaveLength(0);
  });

  it('names the live endpoint when the database cannot be read, never the password', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({ Body: body(manifest()) as never });
    secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({
      SecretString: JSON.stringify({ username: 'admin', password: SECRET }),
    });
    // Act
    const error = await handler(
      { snapshotId: SNAPSHOT, outcome: 'ROLLED_BACK' },
      lambdaContext('compare'),
    ).catch((e: unknown) => e as Error);
    // Assess
    expect(error).toMatchObject({ name: 'LiveDatabaseError' });
    expect((error as Error).message).toMatch(
      /cannot connect to the live database at 127\.0\.0\.1:1:/,
    );
    expect(JSON.stringify(error)).not.toContain(SECRET);
    expect(String((error as Error).message)).not.toContain(SECRET);
    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET_ARN });
  });
});
