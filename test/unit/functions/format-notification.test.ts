import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { notify } from '#functions/format-notification/format-notification.ts';
import type { ExecutionStatusChange } from '#functions/format-notification/schema.ts';
import {
  HEALTH_CAUSE,
  HistoryBuilder,
  RELEASE_INPUT,
  releaseStart,
  rolledBackRelease,
  SCHEMA_NOTE,
  T0,
} from '../cli/fixtures.ts';

const sfn = mockClient(SFNClient);
const sns = mockClient(SNSClient);
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:StepdeployRelease:commit-3f9a';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:stepdeploy-releases';

function event(
  status: 'FAILED' | 'TIMED_OUT' | 'SUCCEEDED',
  error?: string,
  cause?: string,
): ExecutionStatusChange {
  return {
    'detail-type': 'Step Functions Execution Status Change',
    region: 'eu-west-1',
    detail: {
      executionArn: EXECUTION,
      stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:StepdeployRelease',
      name: 'commit-3f9a',
      status,
      startDate: T0,
      stopDate: T0 + 300_000,
      input: JSON.stringify(RELEASE_INPUT),
      output: null,
      error: error ?? null,
      cause: cause ?? null,
    },
  };
}

const deps = () => ({
  sfn: new SFNClient({}),
  sns: new SNSClient({}),
  topicArn: TOPIC,
  announcingStep: 'Notify',
});

beforeEach(() => {
  sfn.reset();
  sns.reset();
});

describe('notify', () => {
  it('announces a release that failed before its own Notify step: what, who, outcome, step, reason, link', async () => {
    // Prepare: the health check failed and the execution timed out before announcing.
    const history = releaseStart().wait('WaitForHealth', 15);
    history.lambdaFails('CheckHealth', 0.5, 'UnhealthyTargetsError', HEALTH_CAUSE);
    history.events.push({
      id: 999,
      previousEventId: history.events.length,
      type: 'ExecutionTimedOut',
      timestamp: new Date(T0 + 300_000),
      executionTimedOutEventDetails: { error: 'States.Timeout' },
    });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: history.events });
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    // Act
    const notice = await notify(event('TIMED_OUT'), deps());
    // Assess
    expect(notice?.subject).toBe('[stepdeploy] TIMED OUT: commit 3f9a1c2e4b5d on main');
    const message = notice?.message ?? '';
    expect(message).toContain('What:      commit 3f9a1c2e4b5d on main');
    expect(message).toContain('By:        arn:aws:iam::123456789012:user/alice (codecommit)');
    expect(message).toContain('Outcome:   TIMED OUT');
    expect(message).toContain('Failed at: CheckHealth');
    expect(message).toContain(`Reason:    UnhealthyTargetsError — ${HEALTH_CAUSE}`);
    expect(message).toContain(
      `Console:   https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${EXECUTION}`,
    );
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: TOPIC,
      Subject: notice?.subject,
      Message: message,
    });
  });

  it('announces a rollback its Notify step could not, with the whole result: the schema change it kept', async () => {
    // Prepare: SNS refused the execution's own announcement (its Notify failed, caught).
    const history = rolledBackRelease(SCHEMA_NOTE, false);
    const cause = `Release x FAILED at step CheckHealth (UnhealthyTargetsError): ${HEALTH_CAUSE}. Rolled back to stepdeploy-wordpress:41, which is healthy.${SCHEMA_NOTE}`;
    sfn.on(GetExecutionHistoryCommand).resolves({ events: history.events });
    sns.on(PublishCommand).resolves({ MessageId: 'm-2' });
    // Act
    const notice = await notify(event('FAILED', 'ROLLED_BACK', cause), deps());
    // Assess
    const message = notice?.message ?? '';
    expect(message).toContain('Failed at: CheckHealth');
    expect(message).toContain(`Reason:    UnhealthyTargetsError — ${HEALTH_CAUSE}`);
    expect(message).toContain(`Result:    ${cause}`);
    expect(message).toContain('restore the pre-release snapshot stepdeploy-release-x to undo it');
  });

  it('stays quiet when the execution announced itself through its Notify step', async () => {
    // Prepare
    const history = new HistoryBuilder()
      .started()
      .lambda('ValidateInput', 1)
      .lambda('Notify', 0.2)
      .succeeded();
    sfn.on(GetExecutionHistoryCommand).resolves({ events: history.events });
    // Act
    const notice = await notify(event('SUCCEEDED'), deps());
    // Assess
    expect(notice).toBeUndefined();
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 0);
  });
});
