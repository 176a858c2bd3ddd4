import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  InvalidDBSnapshotStateFault,
  RDSClient,
} from '@aws-sdk/client-rds';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { LedgerRecord } from '#commons/ledger.ts';
import {
  chooseSnapshotsToDelete,
  knownGoodSnapshotIds,
  retentionQuestion,
  type SnapshotInfo,
  SnapshotPruneError,
} from '#commons/snapshot-retention.ts';
import { pruneSnapshots } from '#functions/prune-snapshots/prune-snapshots.ts';

const SERVICE = 'stepdeploy-wordpress';
const PREFIX = 'stepdeploy-release';
const tags = (service = SERVICE) => ({ 'stepdeploy:service': service, 'stepdeploy:release': 'r' });
/** Release snapshot n, created on day n of January (higher = newer). */
const snap = (n: number, over: Partial<SnapshotInfo> = {}): SnapshotInfo => ({
  id: `${PREFIX}-r-${n}`,
  createdAt: `2026-01-${String(n).padStart(2, '0')}T10:00:00.000Z`,
  status: 'available',
  tags: tags(),
  ...over,
});
const ids = (...ns: number[]) => ns.map((n) => `${PREFIX}-r-${n}`);

describe('chooseSnapshotsToDelete', () => {
  it.each([
    {
      name: 'fewer snapshots than kept: nothing is deleted',
      snapshots: [snap(1), snap(2)],
      current: 2,
      knownGood: [] as number[],
      keepNewest: 3,
      keepKnownGood: 0,
      deleted: [] as number[],
    },
    {
      name: 'the oldest beyond keepNewest are deleted',
      snapshots: [snap(1), snap(2), snap(3), snap(4), snap(5)],
      current: 5,
      knownGood: [],
      keepNewest: 2,
      keepKnownGood: 0,
      deleted: [3, 2, 1],
    },
    {
      name: 'known-good releases survive however old',
      snapshots: [snap(1), snap(2), snap(3), snap(4), snap(5)],
      current: 5,
      knownGood: [5, 2, 1],
      keepNewest: 2,
      keepKnownGood: 2,
      deleted: [3, 1],
    },
    {
      name: 'only the last keepKnownGood known-good releases count',
      snapshots: [snap(1), snap(2), snap(3)],
      current: 3,
      knownGood: [2, 1],
      keepNewest: 1,
      keepKnownGood: 1,
      deleted: [1],
    },
    {
      name: 'the current snapshot is kept even when it sorts old',
      snapshots: [snap(1), snap(8), snap(9)],
      current: 1,
      knownGood: [],
      keepNewest: 1,
      keepKnownGood: 0,
      deleted: [8],
    },
    {
      name: 'a snapshot not available (copying, creating) is left for a later prune',
      snapshots: [snap(1, { status: 'copying' }), snap(2), snap(3)],
      current: 3,
      knownGood: [],
      keepNewest: 1,
      keepKnownGood: 0,
      deleted: [2],
    },
    {
      name: "another service's release snapshot is never touched",
      snapshots: [snap(1, { tags: tags('other-service') }), snap(2), snap(3)],
      current: 3,
      knownGood: [],
      keepNewest: 1,
      keepKnownGood: 0,
      deleted: [2],
    },
    {
      name: 'a hand-made snapshot (other name, or untagged) is never touched',
      snapshots: [snap(1, { id: 'before-upgrade' }), snap(2, { tags: {} }), snap(3), snap(4)],
      current: 4,
      knownGood: [],
      keepNewest: 1,
      keepKnownGood: 0,
      deleted: [3],
    },
  ])('$name', ({ snapshots, current, knownGood, keepNewest, keepKnownGood, deleted }) => {
    // Act
    const decision = chooseSnapshotsToDelete(snapshots, {
      service: SERVICE,
      snapshotPrefix: PREFIX,
      currentSnapshotId: `${PREFIX}-r-${current}`,
      knownGoodSnapshotIds: ids(...knownGood),
      policy: { keepNewest, keepKnownGood },
    });
    // Assess
    expect(decision.delete).toEqual(ids(...deleted));
    const considered = snapshots.filter(
      (s) => s.id.startsWith(`${PREFIX}-`) && s.tags['stepdeploy:service'] === SERVICE,
    );
    expect(decision.keep.length + decision.delete.length).toBe(considered.length);
  });
});

describe('knownGoodSnapshotIds', () => {
  const record = (id: string, outcome: LedgerRecord['outcome'], day: number): LedgerRecord => ({
    service: SERVICE,
    releaseId: id,
    outcome,
    startedAt: `2026-01-${day}T09:00:00.000Z`,
    finishedAt: `2026-01-${day}T10:00:00.000Z`,
    trigger: 'manual',
    startedBy: 'alice',
    source: { type: 'image' },
    snapshotId: `${PREFIX}-${id}`,
  });

  it('takes the newest SUCCEEDED releases only (a ROLLED_BACK snapshot is the failed release)', () => {
    // Prepare
    const records = [
      record('r-10', 'SUCCEEDED', 10),
      record('r-12', 'ROLLED_BACK', 12),
      record('r-11', 'SUCCEEDED', 11),
      record('r-13', 'SUCCEEDED', 13),
    ];
    // Act
    const out = knownGoodSnapshotIds(records, 2);
    // Assess
    expect(out).toEqual([`${PREFIX}-r-13`, `${PREFIX}-r-11`]);
  });

  it('a prune request becomes the retention question, known-good snapshots from the ledger', () => {
    // Prepare
    const records = [record('r-10', 'SUCCEEDED', 10), record('r-11', 'SUCCEEDED', 11)];
    const request = {
      service: SERVICE,
      snapshotPrefix: PREFIX,
      currentSnapshotId: `${PREFIX}-r-12`,
      keepNewest: 3,
      keepKnownGood: 1,
    };
    // Act
    const question = retentionQuestion(request, records);
    // Assess
    expect(question).toEqual({
      service: SERVICE,
      snapshotPrefix: PREFIX,
      currentSnapshotId: `${PREFIX}-r-12`,
      knownGoodSnapshotIds: [`${PREFIX}-r-11`],
      policy: { keepNewest: 3, keepKnownGood: 1 },
    });
  });
});

describe('pruneSnapshots (Lambda I/O, aws-sdk-client-mock)', () => {
  const rds = mockClient(RDSClient);
  const dynamo = mockClient(DynamoDBDocumentClient);
  const clients = {
    rds: new RDSClient({}),
    dynamo: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  };
  const config = { ledgerTableName: 'ledger', goodIndexName: 'byGoodAt' };
  const event = {
    service: SERVICE,
    releaseId: 'r-5',
    dbInstanceIdentifier: 'stepdeploy-wordpress',
    snapshotPrefix: PREFIX,
    currentSnapshotId: `${PREFIX}-r-5`,
    keepNewest: 2,
    keepKnownGood: 1,
  };
  /** A DBSnapshot as DescribeDBSnapshots returns it (API reference shape). */
  const dbSnapshot = (n: number, status = 'available') => ({
    DBSnapshotIdentifier: `${PREFIX}-r-${n}`,
    DBInstanceIdentifier: 'stepdeploy-wordpress',
    DBSnapshotArn: `arn:aws:rds:us-east-1:123456789012:snapshot:${PREFIX}-r-${n}`,
    SnapshotCreateTime: new Date(`2026-01-0${n}T10:00:00.000Z`),
    Engine: 'mysql',
    Status: status,
    SnapshotType: 'manual',
    TagList: [
      { Key: 'stepdeploy:release', Value: `r-${n}` },
      { Key: 'stepdeploy:service', Value: SERVICE },
    ],
  });

  beforeEach(() => {
    rds.reset();
    dynamo.reset();
    // Two pages, as RDS pages with Marker.
    rds
      .on(DescribeDBSnapshotsCommand, { Marker: undefined })
      .resolves({ DBSnapshots: [dbSnapshot(5), dbSnapshot(4), dbSnapshot(3)], Marker: 'page-2' })
      .on(DescribeDBSnapshotsCommand, { Marker: 'page-2' })
      .resolves({ DBSnapshots: [dbSnapshot(2), dbSnapshot(1)] });
    dynamo.on(QueryCommand).resolves({
      Items: [
        {
          service: SERVICE,
          releaseId: 'r-2',
          outcome: 'SUCCEEDED',
          finishedAt: '2026-01-02T11:00:00.000Z',
          goodAt: '2026-01-02T11:00:00.000Z',
          snapshotId: `${PREFIX}-r-2`,
        },
      ],
    });
  });

  it('deletes what the decision chose, keeping the newest and the known-good', async () => {
    // Prepare
    rds.on(DeleteDBSnapshotCommand).resolves({ DBSnapshot: { Status: 'deleted' } });
    // Act
    const out = await pruneSnapshots(event, config, clients);
    // Assess
    expect(out.deleted).toEqual([`${PREFIX}-r-3`, `${PREFIX}-r-1`]);
    expect(rds).toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, {
      DBInstanceIdentifier: 'stepdeploy-wordpress',
      SnapshotType: 'manual',
    });
    expect(rds).toHaveReceivedCommandTimes(DeleteDBSnapshotCommand, 2);
    expect(dynamo).toHaveReceivedCommandWith(QueryCommand, {
      IndexName: 'byGoodAt',
      ScanIndexForward: false,
    });
  });

  it('tries every deletion, counts one already gone, and reports all failures at once', async () => {
    // Prepare: r-3 is being copied (RDS refuses), r-1 was deleted meanwhile
    rds
      .on(DeleteDBSnapshotCommand, { DBSnapshotIdentifier: `${PREFIX}-r-3` })
      .rejects(
        new InvalidDBSnapshotStateFault({
          message: 'Cannot delete the snapshot because it is not in the available state.',
          $metadata: { httpStatusCode: 400 },
        }),
      )
      .on(DeleteDBSnapshotCommand, { DBSnapshotIdentifier: `${PREFIX}-r-1` })
      .rejects(
        Object.assign(new Error(`DBSnapshot ${PREFIX}-r-1 not found.`), {
          name: 'DBSnapshotNotFoundFault',
          $metadata: { httpStatusCode: 404 },
        }),
      );
    // Act
    const run = pruneSnapshots(event, config, clients);
    // Assess
    await expect(run).rejects.toThrow(SnapshotPruneError);
    await expect(pruneSnapshots(event, config, clients)).rejects.toThrow(
      /could not delete 1 of 2 .*stepdeploy-release-r-3 \(InvalidDBSnapshotStateFault: Cannot delete/,
    );
    expect(rds).toHaveReceivedCommandWith(DeleteDBSnapshotCommand, {
      DBSnapshotIdentifier: `${PREFIX}-r-1`,
    });
  });
});
