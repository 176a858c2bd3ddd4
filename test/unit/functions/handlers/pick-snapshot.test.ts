import { type DBSnapshot, DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { scratchInstanceId } from '#commons/verify-scratch.ts';
import { lambdaContext } from './context.ts';

vi.hoisted(() => {
  process.env.DATABASE_INSTANCE_ID = 'stepdeploy-wordpress';
  process.env.SCRATCH_PREFIX = 'stepdeploy';
  process.env.SCRATCH_TTL_MINUTES = '360';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});
const { handler } = await import('#functions/pick-snapshot/handler.ts');
const rds = mockClient(RDSClient);

const RUN = 'verify-2026-02-01T06-17-00Z';
/** A snapshot as DescribeDBSnapshots returns it. */
const snapshot = (id: string, type: string, created: string, status = 'available'): DBSnapshot => ({
  DBSnapshotIdentifier: id,
  DBInstanceIdentifier: 'stepdeploy-wordpress',
  SnapshotCreateTime: new Date(created),
  OriginalSnapshotCreateTime: new Date(created),
  Engine: 'mysql',
  EngineVersion: '8.0.40',
  AllocatedStorage: 20,
  Status: status,
  Port: 3306,
  AvailabilityZone: 'us-east-1a',
  VpcId: 'vpc-0a1b2c3d4e5f60718',
  InstanceCreateTime: new Date('2026-01-10T12:00:00Z'),
  MasterUsername: 'admin',
  LicenseModel: 'general-public-license',
  SnapshotType: type,
  PercentProgress: status === 'available' ? 100 : 40,
  StorageType: 'gp3',
  Encrypted: true,
  KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789',
  DBSnapshotArn: `arn:aws:rds:us-east-1:123456789012:snapshot:${id}`,
  IAMDatabaseAuthenticationEnabled: false,
  DbiResourceId: 'db-ABCDEFGHIJKLMNOPQRSTUVWXY',
  TagList: [],
  SnapshotTarget: 'region',
});

beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-02-01T06:17:03Z'));
});
afterAll(() => vi.useRealTimers());
beforeEach(() => rds.reset());

describe('PickSnapshot handler', () => {
  it('picks the newest available automated snapshot and names the scratch instance', async () => {
    // Prepare
    rds.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        snapshot('rds:stepdeploy-wordpress-2026-01-31-03-10', 'automated', '2026-01-31T03:10:00Z'),
        snapshot('rds:stepdeploy-wordpress-2026-02-01-03-10', 'automated', '2026-02-01T03:10:00Z'),
        snapshot(
          'rds:stepdeploy-wordpress-2026-02-01-06-00',
          'automated',
          '2026-02-01T06:00:00Z',
          'creating',
        ),
      ],
    });
    // Act
    const out = await handler({ runId: RUN, request: {} }, lambdaContext('PickSnapshot'));
    // Assess
    expect(out).toEqual({
      snapshotId: 'rds:stepdeploy-wordpress-2026-02-01-03-10',
      snapshotArn:
        'arn:aws:rds:us-east-1:123456789012:snapshot:rds:stepdeploy-wordpress-2026-02-01-03-10',
      snapshotCreateTime: '2026-02-01T03:10:00.000Z',
      source: 'latest-automated',
      pickedAt: '2026-02-01T06:17:03.000Z',
      scratch: {
        instanceId: scratchInstanceId('stepdeploy', RUN),
        expiresAt: '2026-02-01T12:17:03.000Z',
      },
    });
    expect(rds).toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, {
      DBInstanceIdentifier: 'stepdeploy-wordpress',
      SnapshotType: 'automated',
    });
  });

  it('picks the snapshot the request names (a release’s pre-deploy one)', async () => {
    // Prepare
    rds
      .on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: 'stepdeploy-release-r-7' })
      .resolves({
        DBSnapshots: [snapshot('stepdeploy-release-r-7', 'manual', '2026-01-30T14:02:00Z')],
      });
    // Act
    const out = await handler(
      { runId: RUN, request: { snapshotId: 'stepdeploy-release-r-7' } },
      lambdaContext('PickSnapshot'),
    );
    // Assess
    expect(out).toMatchObject({ snapshotId: 'stepdeploy-release-r-7', source: 'given' });
  });

  it('fails with NoSnapshotError when the database has no available automated snapshot', async () => {
    // Prepare
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    // Act
    const error = await handler({ runId: RUN, request: {} }, lambdaContext('PickSnapshot')).catch(
      (e: unknown) => e,
    );
    // Assess
    expect(error).toMatchObject({
      name: 'NoSnapshotError',
      message: 'database stepdeploy-wordpress has no available automated snapshot',
    });
  });

  it.each([
    [
      { runId: RUN, request: { snapshotId: '../etc/passwd' } },
      /snapshotId must be an RDS snapshot identifier/,
    ],
    [{ request: {} }, /runId/],
  ])('refuses %j before any AWS call (ParseError)', async (input, reason) => {
    // Prepare / Act
    const error = (await handler(input as never, lambdaContext('PickSnapshot')).catch(
      (e: unknown) => e,
    )) as Error & { cause?: unknown };
    // Assess
    expect(error.name).toBe('ParseError');
    expect(JSON.stringify(error.cause)).toMatch(reason);
    expect(rds.calls()).toHaveLength(0);
  });
});
