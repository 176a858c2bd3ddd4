import { DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { NoSnapshotError } from '#commons/verify-errors.ts';
import { scratchInstanceId } from '#commons/verify-scratch.ts';
import {
  chooseSnapshot,
  pickSnapshot,
  type SnapshotSummary,
} from '#functions/pick-snapshot/pick-snapshot.ts';

const snap = (id: string, status: string, createTime?: string): SnapshotSummary => ({
  id,
  arn: `arn:aws:rds:eu-west-1:123456789012:snapshot:${id}`,
  status,
  createTime,
});

describe('chooseSnapshot', () => {
  const automated = [
    snap('rds:db-2025-06-01', 'available', '2025-06-01T03:00:00Z'),
    snap('rds:db-2025-06-03', 'available', '2025-06-03T03:00:00Z'),
    snap('rds:db-2025-06-04', 'creating'),
  ];
  it.each([
    {
      name: 'newest available automated',
      requested: undefined,
      list: automated,
      id: 'rds:db-2025-06-03',
    },
    {
      name: 'the requested one',
      requested: 'release-42',
      list: [snap('release-42', 'available', '2025-06-02T00:00:00Z')],
      id: 'release-42',
    },
  ])('picks $name', ({ requested, list, id }) => {
    // Prepare / Act
    const out = chooseSnapshot(requested, list, 'db');
    // Assess
    expect(out.snapshot.id).toBe(id);
    expect(out.source).toBe(requested ? 'given' : 'latest-automated');
  });

  it.each([
    {
      name: 'no snapshots at all',
      requested: undefined,
      list: [],
      message: /has no available automated snapshot/,
    },
    {
      name: 'only unfinished ones',
      requested: undefined,
      list: [snap('a', 'creating')],
      message: /no available/,
    },
    {
      name: 'unknown requested id',
      requested: 'nope',
      list: [],
      message: /snapshot nope does not exist/,
    },
    {
      name: 'requested one still creating',
      requested: 'r',
      list: [snap('r', 'creating')],
      message: /snapshot r is creating, not available/,
    },
  ])('refuses $name', ({ requested, list, message }) => {
    // Prepare / Act / Assess
    expect(() => chooseSnapshot(requested, list, 'db')).toThrow(NoSnapshotError);
    expect(() => chooseSnapshot(requested, list, 'db')).toThrow(message);
  });
});

describe('scratchInstanceId', () => {
  it.each([
    ['stepdeploy', 'exec-1'],
    ['My_Prefix', 'a'.repeat(80)],
    ['9lives', 'x'],
    ['a'.repeat(70), 'y'],
  ])('is a valid RDS identifier for prefix %s', (prefix, runId) => {
    // Act
    const id = scratchInstanceId(prefix, runId);
    // Assess
    expect(id).toMatch(/^[a-z](?:[a-z0-9]|-(?!-))*[a-z0-9]$/);
    expect(id.length).toBeLessThanOrEqual(63);
    expect(id).toContain('-scratch-');
    expect(scratchInstanceId(prefix, runId)).toBe(id); // same run, same instance
    expect(scratchInstanceId(prefix, `${runId}2`)).not.toBe(id);
  });
});

describe('pickSnapshot with RDS', () => {
  const rds = mockClient(RDSClient);
  beforeEach(() => rds.reset());

  it('pages through automated snapshots and names the scratch instance', async () => {
    // Prepare
    rds
      .on(DescribeDBSnapshotsCommand, { Marker: undefined })
      .resolves({
        DBSnapshots: [
          {
            DBSnapshotIdentifier: 'rds:db-1',
            DBSnapshotArn: 'arn:aws:rds:eu-west-1:123456789012:snapshot:rds:db-1',
            Status: 'available',
            SnapshotCreateTime: new Date('2025-06-01T03:00:00Z'),
          },
        ],
        Marker: 'm2',
      })
      .on(DescribeDBSnapshotsCommand, { Marker: 'm2' })
      .resolves({
        DBSnapshots: [
          {
            DBSnapshotIdentifier: 'rds:db-2',
            DBSnapshotArn: 'arn:aws:rds:eu-west-1:123456789012:snapshot:rds:db-2',
            Status: 'available',
            SnapshotCreateTime: new Date('2025-06-02T03:00:00Z'),
          },
        ],
      });
    const now = new Date('2025-06-02T05:00:00Z');
    // Act
    const out = await pickSnapshot(
      { runId: 'exec-1', request: {} },
      { instanceId: 'db', scratchPrefix: 'sd', scratchTtlMinutes: 120, now },
      new RDSClient({}),
    );
    // Assess
    expect(out).toEqual({
      snapshotId: 'rds:db-2',
      snapshotArn: 'arn:aws:rds:eu-west-1:123456789012:snapshot:rds:db-2',
      snapshotCreateTime: '2025-06-02T03:00:00.000Z',
      source: 'latest-automated',
      pickedAt: '2025-06-02T05:00:00.000Z',
      scratch: {
        instanceId: scratchInstanceId('sd', 'exec-1'),
        expiresAt: '2025-06-02T07:00:00.000Z',
      },
    });
    expect(rds).toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, {
      DBInstanceIdentifier: 'db',
      SnapshotType: 'automated',
    });
  });

  it('turns a missing requested snapshot into NoSnapshotError', async () => {
    // Prepare
    const fault = new Error('DBSnapshot nope not found.');
    fault.name = 'DBSnapshotNotFoundFault';
    rds.on(DescribeDBSnapshotsCommand).rejects(fault);
    // Act
    const result = pickSnapshot(
      { runId: 'exec-1', request: { snapshotId: 'nope' } },
      { instanceId: 'db', scratchPrefix: 'sd', scratchTtlMinutes: 120, now: new Date() },
      new RDSClient({}),
    );
    // Assess
    await expect(result).rejects.toThrow(NoSnapshotError);
  });
});
