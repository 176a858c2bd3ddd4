import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  HEALTH_CAUSE,
  HistoryBuilder,
  RELEASE_INPUT,
  releaseStart,
  T0,
} from '../../cli/fixtures.ts';
import { lambdaContext } from './context.ts';

vi.hoisted(() => {
  process.env.TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:stepdeploy-releases';
  process.env.ANNOUNCING_STEP = 'Notify';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});
const { handler } = await import('#functions/format-notification/handler.ts');
const sfn = mockClient(SFNClient);
const sns = mockClient(SNSClient);

const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:StepdeployRelease:commit-3f9a';
/** The whole EventBridge event the release machine's status-change rule delivers. */
const statusChange = (status: 'FAILED' | 'SUCCEEDED', error: string | null = null) => ({
  version: '0',
  id: '315c1398-40ff-a850-213b-158f73e60175',
  'detail-type': 'Step Functions Execution Status Change' as const,
  source: 'aws.states',
  account: '123456789012',
  time: new Date(T0 + 300_000).toISOString(),
  region: 'eu-west-1',
  resources: [EXECUTION],
  detail: {
    executionArn: EXECUTION,
    stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:StepdeployRelease',
    name: 'commit-3f9a',
    status,
    startDate: T0,
    stopDate: T0 + 300_000,
    input: JSON.stringify(RELEASE_INPUT),
    inputDetails: { included: true },
    output: null,
    outputDetails: null,
    error,
    cause: null,
  },
});

beforeEach(() => {
  sfn.reset();
  sns.reset();
});

describe('FormatNotification handler', () => {
  it('publishes the notice of a release that failed before its own Notify step', async () => {
    // Prepare
    const history = releaseStart().wait('WaitForHealth', 15);
    history.lambdaFails('CheckHealth', 0.5, 'UnhealthyTargetsError', HEALTH_CAUSE);
    history.events.push({
      id: 999,
      previousEventId: history.events.length,
      type: 'ExecutionFailed',
      timestamp: new Date(T0 + 300_000),
      executionFailedEventDetails: { error: 'UnhealthyTargetsError', cause: HEALTH_CAUSE },
    });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: history.events });
    sns.on(PublishCommand).resolves({ MessageId: '5f1e2d3c-4b5a-4968-8776-655443322110' });
    // Act
    const out = await handler(
      statusChange('FAILED', 'UnhealthyTargetsError'),
      lambdaContext('FormatNotification'),
    );
    // Assess
    expect(out).toBeUndefined();
    expect(sfn).toHaveReceivedCommandWith(GetExecutionHistoryCommand, { executionArn: EXECUTION });
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: process.env.TOPIC_ARN,
      Subject: '[stepdeploy] FAILED: commit 3f9a1c2e4b5d on main',
      Message: expect.stringContaining(`Reason:    UnhealthyTargetsError — ${HEALTH_CAUSE}`),
    });
  });

  it('publishes nothing when the execution announced itself', async () => {
    // Prepare
    const history = new HistoryBuilder()
      .started()
      .lambda('ValidateInput', 1)
      .lambda('Notify', 0.2)
      .succeeded();
    sfn.on(GetExecutionHistoryCommand).resolves({ events: history.events });
    // Act
    await handler(statusChange('SUCCEEDED'), lambdaContext('FormatNotification'));
    // Assess
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  it('refuses an event of another kind before any AWS call (ParseError)', async () => {
    // Prepare
    const event = { ...statusChange('FAILED'), 'detail-type': 'ECS Task State Change' };
    // Act
    const error = (await handler(event as never, lambdaContext('FormatNotification')).catch(
      (e: unknown) => e,
    )) as Error & { cause?: unknown };
    // Assess
    expect(error.name).toBe('ParseError');
    expect(JSON.stringify(error.cause)).toMatch(/detail-type/);
    expect(sfn.calls()).toHaveLength(0);
    expect(sns.calls()).toHaveLength(0);
  });
});
