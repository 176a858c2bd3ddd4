import {
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { expiredScratch } from '#commons/verify-scratch.ts';
import { sweep } from '#functions/sweep-scratch-instances/sweep-scratch-instances.ts';

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
    expect(out).toEqual({ deleted: ['sd-scratch-old'], unparseable: [] });
    expect(rds).toHaveReceivedCommandTimes(DeleteDBInstanceCommand, 1);
    expect(rds).toHaveReceivedCommandWith(DeleteDBInstanceCommand, {
      DBInstanceIdentifier: 'sd-scratch-old',
      SkipFinalSnapshot: true,
      DeleteAutomatedBackups: true,
    });
  });
});
