import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { ECSClient, ListTasksCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { DeleteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { abandonedRelease } from '#functions/free-abandoned-lock/free-abandoned-lock.ts';
import { lambdaContext } from '../handlers/context.ts';

vi.hoisted(() => {
  process.env.LOCK_TABLE_NAME = 'sd-lock';
  process.env.SERVICE_NAME = 'stepdeploy-wordpress';
  process.env.CLUSTER_ARN = 'arn:aws:ecs:us-east-1:123456789012:cluster/sd';
  process.env.POWERTOOLS_DEV = 'true';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});

const { handler } = await import('#functions/free-abandoned-lock/handler.ts');
const ddb = mockClient(DynamoDBDocumentClient);
const ecs = mockClient(ECSClient);
const CLUSTER = 'arn:aws:ecs:us-east-1:123456789012:cluster/sd';
const TRIAL = 'arn:aws:ecs:us-east-1:123456789012:task/sd/5b6d2c1e0f4a4e0c9d7b1a2f3e4c5d6a';
const STOPPED = Date.parse('2026-12-02T10:20:00.000Z');

/** The status-change event as EventBridge delivers it (Step Functions user guide, EventBridge). */
function statusChange(detail: Record<string, unknown>) {
  return {
    version: '0',
    id: '315c1398-40ff-a850-213b-158f73e60175',
    'detail-type': 'Step Functions Execution Status Change' as const,
    source: 'aws.states',
    account: '123456789012',
    time: '2026-12-02T10:20:00Z',
    region: 'us-east-1',
    resources: [
      'arn:aws:states:us-east-1:123456789012:execution:stepdeploy-release:manual-20261202t101500z-ab12',
    ],
    detail: {
      executionArn:
        'arn:aws:states:us-east-1:123456789012:execution:stepdeploy-release:manual-20261202t101500z-ab12',
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:stepdeploy-release',
      name: 'manual-20261202t101500z-ab12',
      status: 'ABORTED',
      startDate: Date.parse('2026-12-02T10:15:00.000Z'),
      stopDate: STOPPED,
      input:
        '{"source":{"type":"codecommit","commitId":"0123456789abcdef0123456789abcdef01234567"}}',
      inputDetails: { included: true },
      output: null,
      outputDetails: null,
      ...detail,
    },
  };
}

describe('abandonedRelease', () => {
  it.each([
    {
      name: 'a stopped execution, id from its name',
      status: 'ABORTED',
      input: '{}',
      want: 'manual-20261202t101500z-ab12',
    },
    {
      name: 'a timed-out one',
      status: 'TIMED_OUT',
      input: '{}',
      want: 'manual-20261202t101500z-ab12',
    },
    {
      name: 'a failed one (a no-op when ReleaseLock ran)',
      status: 'FAILED',
      input: '{}',
      want: 'manual-20261202t101500z-ab12',
    },
    {
      name: 'the id the input asked for',
      status: 'ABORTED',
      input: '{"releaseId":"hotfix-7"}',
      want: 'hotfix-7',
    },
    {
      name: 'input too large to include',
      status: 'ABORTED',
      input: null,
      want: 'manual-20261202t101500z-ab12',
    },
    {
      name: 'input that is not JSON',
      status: 'ABORTED',
      input: '{',
      want: 'manual-20261202t101500z-ab12',
    },
    { name: 'a success holds nothing', status: 'SUCCEEDED', input: '{}', want: undefined },
  ])('$name -> $want', ({ status, input, want }) => {
    // Act
    const release = abandonedRelease(statusChange({ status, input }).detail as never);
    // Assess
    expect(release?.releaseId).toBe(want);
    if (want) expect(release?.stoppedAt).toBe('2026-12-02T10:20:00.000Z');
  });
});

describe('FreeAbandonedLock handler', () => {
  beforeEach(() => {
    ddb.reset();
    ecs.reset();
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });
  });

  it('deletes the lock the stopped release still holds, only if it took it before it stopped', async () => {
    // Prepare
    ddb.on(DeleteCommand).resolves({});
    // Act
    const out = await handler(statusChange({}), lambdaContext('FreeAbandonedLock'));
    // Assess
    expect(out).toEqual({
      releaseId: 'manual-20261202t101500z-ab12',
      released: true,
      trialsStopped: [],
    });
    expect(ddb).toHaveReceivedCommandWith(DeleteCommand, {
      TableName: 'sd-lock',
      Key: { service: 'stepdeploy-wordpress' },
      ConditionExpression: 'holder = :me AND acquiredAt <= :before',
      ExpressionAttributeValues: {
        ':me': 'manual-20261202t101500z-ab12',
        ':before': '2026-12-02T10:20:00.000Z',
      },
    });
  });

  it('leaves a lock another release (or a later execution) holds, without failing', async () => {
    // Prepare
    ddb.on(DeleteCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    // Act
    const out = await handler(
      statusChange({ status: 'FAILED' }),
      lambdaContext('FreeAbandonedLock'),
    );
    // Assess
    expect(out).toEqual({
      releaseId: 'manual-20261202t101500z-ab12',
      released: false,
      reason: 'lock of stepdeploy-wordpress is not held by manual-20261202t101500z-ab12',
      trialsStopped: [],
    });
  });

  it("stops the trial task an execution stopped mid-trial left running, and only that release's", async () => {
    // Prepare
    ddb.on(DeleteCommand).resolves({});
    ecs.on(ListTasksCommand).resolves({ taskArns: [TRIAL] });
    ecs.on(StopTaskCommand).resolves({ task: { taskArn: TRIAL, desiredStatus: 'STOPPED' } });
    // Act
    const out = await handler(
      statusChange({ input: '{"releaseId":"hotfix-7"}' }),
      lambdaContext('FreeAbandonedLock'),
    );
    // Assess
    expect(out).toMatchObject({ releaseId: 'hotfix-7', trialsStopped: [TRIAL] });
    expect(ecs).toHaveReceivedCommandWith(ListTasksCommand, {
      cluster: CLUSTER,
      startedBy: 'stepdeploy-trial-hotfix-7',
      desiredStatus: 'RUNNING',
    });
    expect(ecs).toHaveReceivedCommandWith(StopTaskCommand, {
      cluster: CLUSTER,
      task: TRIAL,
      reason: 'stepdeploy: release hotfix-7 ended mid-trial',
    });
  });

  it('does nothing for a release that succeeded', async () => {
    // Act
    const out = await handler(
      statusChange({ status: 'SUCCEEDED' }),
      lambdaContext('FreeAbandonedLock'),
    );
    // Assess
    expect(out).toEqual({ released: false, reason: 'execution ended SUCCEEDED' });
    expect(ddb).not.toHaveReceivedCommand(DeleteCommand);
    expect(ecs).not.toHaveReceivedCommand(ListTasksCommand);
  });
});
