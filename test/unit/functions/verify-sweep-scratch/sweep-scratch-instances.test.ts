import {
  DBInstanceNotFoundFault,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  InvalidDBInstanceStateFault,
  RDSClient,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { expiredScratch } from '#commons/verify-scratch.ts';
import {
  ScratchSweepError,
  sweep,
  sweepReport,
  sweepVerdict,
} from '#functions/sweep-scratch-instances/sweep-scratch-instances.ts';

const now = new Date('2025-06-01T12:00:00Z');
const tags = (scratch: string | undefined, expires: string | undefined) => ({
  ...(scratch !== undefined ? { 'stepdeploy:scratch': scratch } : {}),
  ...(expires !== undefined ? { 'stepdeploy:expires-at': expires } : {}),
});

describe('expiredScratch', () => {
  it.each([
    {
      name: 'expired scratch',
      tags: tags('true', '2025-06-01T11:00:00Z'),
      status: 'available',
      expired: true,
    },
    {
      name: 'expiring exactly now',
      tags: tags('true', '2025-06-01T12:00:00Z'),
      status: 'available',
      expired: true,
    },
    {
      name: 'not yet expired',
      tags: tags('true', '2025-06-01T13:00:00Z'),
      status: 'creating',
      expired: false,
    },
    {
      name: 'the live database (no tag)',
      tags: tags(undefined, '2000-01-01T00:00:00Z'),
      status: 'available',
      expired: false,
    },
    {
      name: 'scratch=false',
      tags: tags('false', '2000-01-01T00:00:00Z'),
      status: 'available',
      expired: false,
    },
    {
      name: 'already deleting',
      tags: tags('true', '2000-01-01T00:00:00Z'),
      status: 'deleting',
      expired: false,
    },
  ])('$name → expired=$expired', ({ tags: t, status, expired }) => {
    // Act
    const out = expiredScratch([{ id: 'i', status, tags: t }], now);
    // Assess
    expect(out.expired).toEqual(expired ? ['i'] : []);
  });

  it('reports a scratch instance with an unreadable expiry instead of deleting it', () => {
    // Act / Assess
    expect(
      expiredScratch([{ id: 'i', status: 'available', tags: tags('true', 'soon') }], now),
    ).toEqual({
      expired: [],
      unparseable: ['i'],
    });
  });
});

describe('sweep', () => {
  it('deletes only expired scratch instances, without final snapshot', async () => {
    // Prepare
    const rds = mockClient(RDSClient);
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        {
          DBInstanceIdentifier: 'live-db',
          DBInstanceStatus: 'available',
          TagList: [{ Key: 'stepdeploy:expires-at', Value: '2000-01-01T00:00:00Z' }],
        },
        {
          DBInstanceIdentifier: 'sd-scratch-old',
          DBInstanceStatus: 'available',
          TagList: [
            { Key: 'stepdeploy:scratch', Value: 'true' },
            { Key: 'stepdeploy:expires-at', Value: '2025-06-01T06:00:00Z' },
          ],
        },
        {
          DBInstanceIdentifier: 'sd-scratch-new',
          DBInstanceStatus: 'creating',
          TagList: [
            { Key: 'stepdeploy:scratch', Value: 'true' },
            { Key: 'stepdeploy:expires-at', Value: '2025-06-01T18:00:00Z' },
          ],
        },
      ],
    });
    rds.on(DeleteDBInstanceCommand).resolves({});
    // Act
    const out = await sweep(new RDSClient({}), now);
    // Assess
    expect(out).toEqual({ deleted: ['sd-scratch-old'], failed: [], unparseable: [] });
    expect(rds).toHaveReceivedCommandTimes(DeleteDBInstanceCommand, 1);
    expect(rds).toHaveReceivedCommandWith(DeleteDBInstanceCommand, {
      DBInstanceIdentifier: 'sd-scratch-old',
      SkipFinalSnapshot: true,
      DeleteAutomatedBackups: true,
    });
  });
});

describe('sweepReport', () => {
  const invalidState = new InvalidDBInstanceStateFault({
    message: 'Instance sd-scratch-a is not in available state.',
    $metadata: { httpStatusCode: 400 },
  });
  const gone = new DBInstanceNotFoundFault({
    message: 'DBInstance sd-scratch-b not found.',
    $metadata: { httpStatusCode: 404 },
  });
  it.each([
    { name: 'all deleted', attempts: [{ id: 'a' }, { id: 'b' }], deleted: ['a', 'b'], failed: [] },
    {
      name: 'one already gone counts as deleted',
      attempts: [{ id: 'a', error: gone }, { id: 'b' }],
      deleted: ['a', 'b'],
      failed: [],
    },
    {
      name: 'a refused deletion is a failure, the next one still counts',
      attempts: [{ id: 'a', error: invalidState }, { id: 'b' }],
      deleted: ['b'],
      failed: ['a'],
    },
    {
      name: 'every failure is reported, not just the first',
      attempts: [
        { id: 'a', error: invalidState },
        { id: 'b', error: new Error('socket hang up') },
        { id: 'c' },
      ],
      deleted: ['c'],
      failed: ['a', 'b'],
    },
  ])('$name', ({ attempts, deleted, failed }) => {
    // Act
    const report = sweepReport(attempts, []);
    // Assess
    expect(report.deleted).toEqual(deleted);
    expect(report.failed.map((f) => f.id)).toEqual(failed);
  });

  it('names the error of each failure', () => {
    // Act
    const report = sweepReport([{ id: 'a', error: invalidState }], []);
    // Assess
    expect(report.failed).toEqual([
      {
        id: 'a',
        error: 'InvalidDBInstanceStateFault: Instance sd-scratch-a is not in available state.',
      },
    ]);
  });
});

describe('sweep with a failing deletion', () => {
  it('carries on past a DeleteDBInstance error and reports every failure', async () => {
    // Prepare: three expired scratch instances; RDS refuses the first
    const rds = mockClient(RDSClient);
    const expired = (id: string) => ({
      DBInstanceIdentifier: id,
      DBInstanceStatus: 'available',
      TagList: [
        { Key: 'stepdeploy:scratch', Value: 'true' },
        { Key: 'stepdeploy:expires-at', Value: '2025-06-01T06:00:00Z' },
      ],
    });
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [expired('sd-scratch-1'), expired('sd-scratch-2'), expired('sd-scratch-3')],
    });
    rds
      .on(DeleteDBInstanceCommand)
      .resolves({ DBInstance: { DBInstanceIdentifier: 'x', DBInstanceStatus: 'deleting' } })
      .on(DeleteDBInstanceCommand, { DBInstanceIdentifier: 'sd-scratch-1' })
      .rejects(
        new InvalidDBInstanceStateFault({
          message: 'Instance sd-scratch-1 is already being deleted.',
          $metadata: { httpStatusCode: 400 },
        }),
      );
    // Act
    const report = await sweep(new RDSClient({}), now);
    // Assess
    expect(rds).toHaveReceivedCommandTimes(DeleteDBInstanceCommand, 3);
    expect(report.deleted).toEqual(['sd-scratch-2', 'sd-scratch-3']);
    expect(report.failed).toEqual([
      {
        id: 'sd-scratch-1',
        error: 'InvalidDBInstanceStateFault: Instance sd-scratch-1 is already being deleted.',
      },
    ]);
    expect(() => sweepVerdict(report)).toThrow(ScratchSweepError);
    expect(() => sweepVerdict(report)).toThrow(
      /could not delete 1 expired scratch instance\(s\): sd-scratch-1 \(InvalidDBInstanceStateFault: .*\); deleted 2/,
    );
  });
});
