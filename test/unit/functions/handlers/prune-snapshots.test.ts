import {
  type DBSnapshot,
  DeleteDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  InvalidDBSnapshotStateFault,
  RDSClient,
} from '@aws-sdk/client-rds';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from './context.ts';

vi.hoisted(() => {
  process.env.LEDGER_TABLE_NAME = 'stepdeploy-ledger';
  process.env.LEDGER_GOOD_INDEX = 'byGoodAt';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});
const { handler } = await import('#functions/prune-snapshots/handler.ts');
const rds = mockClient(RDSClient);
const ddb = mockClient(DynamoDBDocumentClient);

const event = {
  service: 'stepdeploy-wordpress',
  releaseId: 'r-5',
  dbInstanceIdentifier: 'stepdeploy-wordpress',
  snapshotPrefix: 'stepdeploy-release',
  currentSnapshotId: 'stepdeploy-release-r-5',
  keepNewest: 2,
  keepKnownGood: 1,
};
/** A manual snapshot as DescribeDBSnapshots lists it, with its tags. */
const snapshot = (id: string, day: number, tags: Record<string, string>): DBSnapshot => ({
  DBSnapshotIdentifier: id,
  DBInstanceIdentifier: 'stepdeploy-wordpress',
  SnapshotCreateTime: new Date(`2026-01-0${day}T10:00:00Z`),
  Engine: 'mysql',
  Status: 'available',
  SnapshotType: 'manual',
  DBSnapshotArn: `arn:aws:rds:us-east-1:123456789012:snapshot:${id}`,
  TagList: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
});
const release = (n: number) =>
  snapshot(`stepdeploy-release-r-${n}`, n, {
    'stepdeploy:service': 'stepdeploy-wordpress',
    'stepdeploy:release': `r-${n}`,
  });

beforeEach(() => {
  rds.reset();
  ddb.reset();
  rds.on(DescribeDBSnapshotsCommand).resolves({
    DBSnapshots: [
      release(1),
      release(2),
      release(3),
      release(4),
      release(5),
      // A person's snapshot: not named or tagged as a release's, never touched.
      snapshot('before-mysql-upgrade', 6, {}),
    ],
  });
  // The ledger's good-release index: r-2 is the last known-good before this release.
  ddb.on(QueryCommand).resolves({
    Items: [
      {
        service: 'stepdeploy-wordpress',
        releaseId: 'r-2',
        outcome: 'SUCCEEDED',
        finishedAt: '2026-01-02T10:20:00Z',
        snapshotId: 'stepdeploy-release-r-2',
      },
    ],
  });
});

describe('PruneSnapshots handler', () => {
  it('deletes the release snapshots outside the newest and the known-good ones', async () => {
    // Prepare
    rds.on(DeleteDBSnapshotCommand).resolves({});
    // Act
    const out = await handler(event, lambdaContext('PruneSnapshots'));
    // Assess
    expect(out).toEqual({
      deleted: ['stepdeploy-release-r-3', 'stepdeploy-release-r-1'],
      kept: [
        { id: 'stepdeploy-release-r-5', reason: 'current release' },
        { id: 'stepdeploy-release-r-4', reason: 'among the newest 2' },
        { id: 'stepdeploy-release-r-2', reason: 'a last known-good release' },
      ],
    });
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      TableName: 'stepdeploy-ledger',
      IndexName: 'byGoodAt',
    });
    expect(rds).toHaveReceivedCommandTimes(DeleteDBSnapshotCommand, 2);
  });

  it('tries every deletion and fails with SnapshotPruneError naming the one refused', async () => {
    // Prepare
    rds
      .on(DeleteDBSnapshotCommand, { DBSnapshotIdentifier: 'stepdeploy-release-r-3' })
      .rejects(
        new InvalidDBSnapshotStateFault({
          message: 'Cannot delete the snapshot because it is being copied.',
          $metadata: { httpStatusCode: 400 },
        }),
      )
      .on(DeleteDBSnapshotCommand, { DBSnapshotIdentifier: 'stepdeploy-release-r-1' })
      .resolves({});
    // Act
    const error = await handler(event, lambdaContext('PruneSnapshots')).catch((e: unknown) => e);
    // Assess
    expect(error).toMatchObject({
      name: 'SnapshotPruneError',
      message:
        'could not delete 1 of 2 old release snapshot(s): stepdeploy-release-r-3 (InvalidDBSnapshotStateFault: Cannot delete the snapshot because it is being copied.)',
    });
    expect(rds).toHaveReceivedCommandTimes(DeleteDBSnapshotCommand, 2);
  });

  it('refuses keepNewest 0 before any AWS call (ParseError)', async () => {
    // Prepare / Act
    const error = (await handler(
      { ...event, keepNewest: 0 },
      lambdaContext('PruneSnapshots'),
    ).catch((e: unknown) => e)) as Error & { cause?: unknown };
    // Assess
    expect(error.name).toBe('ParseError');
    expect(JSON.stringify(error.cause)).toMatch(/keepNewest/);
    expect(rds.calls()).toHaveLength(0);
    expect(ddb.calls()).toHaveLength(0);
  });
});
