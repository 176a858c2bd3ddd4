import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from './context.ts';

vi.hoisted(() => {
  process.env.RELEASE_STATE_MACHINE_ARN =
    'arn:aws:states:us-east-1:123456789012:stateMachine:StepdeployRelease';
  process.env.TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:stepdeploy-releases';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});
const { handler } = await import('#functions/start-release/handler.ts');
const sfn = mockClient(SFNClient);
const sns = mockClient(SNSClient);

const COMMIT = '3f9a1c2e4b5d6f708192a3b4c5d6e7f8091a2b3c';
const EXECUTION = `arn:aws:states:us-east-1:123456789012:execution:StepdeployRelease:commit-${COMMIT}`;
/** What the CodeCommit trigger rule's input transformer hands over. */
const push = {
  trigger: 'codecommit' as const,
  repository: 'stepdeploy-source',
  branch: 'main',
  commitId: COMMIT,
  startedBy: 'arn:aws:iam::123456789012:user/alice',
};

beforeEach(() => {
  sfn.reset();
  sns.reset();
});

describe('StartRelease handler', () => {
  it('starts the release under the commit’s execution name', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).resolves({
      executionArn: EXECUTION,
      startDate: new Date('2026-02-01T10:00:00Z'),
    });
    // Act
    const out = await handler(push, lambdaContext('StartRelease'));
    // Assess
    expect(out).toEqual({
      status: 'started',
      executionName: `commit-${COMMIT}`,
      executionArn: EXECUTION,
    });
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: process.env.RELEASE_STATE_MACHINE_ARN,
      name: `commit-${COMMIT}`,
      input: JSON.stringify({
        source: { type: 'codecommit', commitId: COMMIT, branch: 'main' },
        trigger: 'codecommit',
        startedBy: push.startedBy,
      }),
    });
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  it('announces a commit that was already released instead of failing', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).rejects(
      new ExecutionAlreadyExists({
        message: `Execution Already Exists: '${EXECUTION}'`,
        $metadata: { httpStatusCode: 400 },
      }),
    );
    sns.on(PublishCommand).resolves({ MessageId: '5f1e2d3c-4b5a-4968-8776-655443322110' });
    // Act
    const out = await handler(push, lambdaContext('StartRelease'));
    // Assess
    expect(out).toEqual({
      status: 'already-started',
      executionName: `commit-${COMMIT}`,
      announcementId: '5f1e2d3c-4b5a-4968-8776-655443322110',
    });
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: process.env.TOPIC_ARN,
      Subject: 'stepdeploy SKIPPED: commit 3f9a1c2e4b5d already released',
    });
  });

  it.each([
    [{ ...push, commitId: '3f9a1c2' }, /must be a full 40-character commit id/],
    [{ trigger: 's3', bucket: 'stepdeploy-artifacts', key: 'releases/site.zip' }, /versionId/],
  ])('refuses %j before any AWS call (ParseError)', async (input, reason) => {
    // Prepare / Act
    const error = (await handler(input as never, lambdaContext('StartRelease')).catch(
      (e: unknown) => e,
    )) as Error & { cause?: unknown };
    // Assess
    expect(error.name).toBe('ParseError');
    expect(JSON.stringify(error.cause)).toMatch(reason);
    expect(sfn.calls()).toHaveLength(0);
    expect(sns.calls()).toHaveLength(0);
  });
});
