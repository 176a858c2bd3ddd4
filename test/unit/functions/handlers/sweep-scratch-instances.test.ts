import {
  type DBInstance,
  DBInstanceNotFoundFault,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  InvalidDBInstanceStateFault,
  RDSClient,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from './context.ts';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});
const { handler } = await import('#functions/sweep-scratch-instances/handler.ts');
const rds = mockClient(RDSClient);

/** An instance as DescribeDBInstances lists it, with its tags. */
const instance = (id: string, status: string, tags: Record<string, string>): DBInstance => ({
  DBInstanceIdentifier: id,
  DBInstanceClass: 'db.t4g.micro',
  Engine: 'mysql',
  EngineVersion: '8.0.40',
  DBInstanceStatus: status,
  MasterUsername: 'admin',
  Endpoint: { Address: `${id}.c9akciq32.us-east-1.rds.amazonaws.com`, Port: 3306 },
  AllocatedStorage: 20,
  PubliclyAccessible: false,
  MultiAZ: false,
  DBInstanceArn: `arn:aws:rds:us-east-1:123456789012:db:${id}`,
  TagList: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
});
const scratch = (id: string, expiresAt: string, status = 'available') =>
  instance(id, status, {
    'stepdeploy:scratch': 'true',
    'stepdeploy:run-id': `verify-${id}`,
    'stepdeploy:expires-at': expiresAt,
  });
/**
 * A scheduled-event notification. What EventBridge Scheduler delivers to a target without input
 * is not documented field by field, which is why the sweeper's schema refuses nothing.
 */
const scheduled = {
  version: '0',
  id: '4b5d6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f70',
  'detail-type': 'Scheduled Event',
  source: 'aws.scheduler',
  account: '123456789012',
  time: '2026-02-01T13:00:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:scheduler:us-east-1:123456789012:schedule/default/SweeperSchedule'],
  detail: '{}',
};

beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-02-01T13:00:00Z'));
});
afterAll(() => vi.useRealTimers());
beforeEach(() => rds.reset());

describe('SweepScratchInstances handler', () => {
  it('deletes only expired scratch instances, never the live database', async () => {
    // Prepare
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        instance('stepdeploy-wordpress', 'available', { 'aws:cloudformation:stack-name': 'app' }),
        scratch('stepdeploy-scratch-aaaaaaaaaaaa', '2026-02-01T12:17:03.000Z'),
        scratch('stepdeploy-scratch-bbbbbbbbbbbb', '2026-02-01T18:00:00.000Z', 'creating'),
      ],
    });
    rds.on(DeleteDBInstanceCommand).resolves({});
    // Act
    const out = await handler(scheduled, lambdaContext('SweepScratchInstances'));
    // Assess
    expect(out).toEqual({
      deleted: ['stepdeploy-scratch-aaaaaaaaaaaa'],
      failed: [],
      unparseable: [],
    });
    expect(rds).toHaveReceivedCommandTimes(DeleteDBInstanceCommand, 1);
    expect(rds).toHaveReceivedCommandWith(DeleteDBInstanceCommand, {
      DBInstanceIdentifier: 'stepdeploy-scratch-aaaaaaaaaaaa',
      SkipFinalSnapshot: true,
      DeleteAutomatedBackups: true,
    });
  });

  it('tries every expired instance and fails naming each it could not delete', async () => {
    // Prepare
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        scratch('stepdeploy-scratch-aaaaaaaaaaaa', '2026-02-01T07:00:00.000Z', 'modifying'),
        scratch('stepdeploy-scratch-cccccccccccc', '2026-02-01T08:00:00.000Z'),
        scratch('stepdeploy-scratch-dddddddddddd', '2026-02-01T09:00:00.000Z'),
      ],
    });
    rds
      .on(DeleteDBInstanceCommand, { DBInstanceIdentifier: 'stepdeploy-scratch-aaaaaaaaaaaa' })
      .rejects(
        new InvalidDBInstanceStateFault({
          message: 'Instance stepdeploy-scratch-aaaaaaaaaaaa is not in available state.',
          $metadata: { httpStatusCode: 400 },
        }),
      )
      .on(DeleteDBInstanceCommand, { DBInstanceIdentifier: 'stepdeploy-scratch-cccccccccccc' })
      .rejects(
        new DBInstanceNotFoundFault({
          message: 'DBInstance stepdeploy-scratch-cccccccccccc not found.',
          $metadata: { httpStatusCode: 404 },
        }),
      )
      .on(DeleteDBInstanceCommand, { DBInstanceIdentifier: 'stepdeploy-scratch-dddddddddddd' })
      .resolves({});
    // Act
    const error = await handler({}, lambdaContext('SweepScratchInstances')).catch(
      (e: unknown) => e,
    );
    // Assess
    expect(error).toMatchObject({
      name: 'ScratchSweepError',
      message:
        'could not delete 1 expired scratch instance(s): stepdeploy-scratch-aaaaaaaaaaaa (InvalidDBInstanceStateFault: Instance stepdeploy-scratch-aaaaaaaaaaaa is not in available state.); deleted 2',
    });
    expect(rds).toHaveReceivedCommandTimes(DeleteDBInstanceCommand, 3);
  });

  it.each([
    ['the scheduler’s notification', scheduled],
    ['an empty object', {}],
    ['null', null],
  ])('reads nothing of its input: %s is accepted by the parser', async (_name, input) => {
    // Prepare
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [] });
    // Act
    const out = await handler(input as never, lambdaContext('SweepScratchInstances'));
    // Assess
    expect(out).toEqual({ deleted: [], failed: [], unparseable: [] });
  });
});
