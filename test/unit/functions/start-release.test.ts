import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { releaseInputSchema } from '#commons/release.ts';
import {
  type StartReleaseEvent,
  startReleaseEventSchema,
} from '#functions/start-release/schema.ts';
import {
  againCommand,
  executionNameFor,
  releaseInputFor,
  skippedAnnouncement,
  sourceExecutionName,
  startRelease,
} from '#functions/start-release/start-release.ts';

const sfn = mockClient(SFNClient);
const sns = mockClient(SNSClient);
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:releases';
const deps = () => ({
  sfn: new SFNClient({}),
  stateMachineArn: MACHINE,
  sns: new SNSClient({}),
  topicArn: TOPIC,
});
const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:StepdeployRelease';
const COMMIT = '3f9a1c2e4b5d6f708192a3b4c5d6e7f8091a2b3c';
const push = startReleaseEventSchema.parse({
  trigger: 'codecommit',
  repository: 'wordpress-site',
  branch: 'main',
  commitId: COMMIT,
  startedBy: 'arn:aws:iam::123456789012:user/alice',
});
const upload: Extract<StartReleaseEvent, { trigger: 's3' }> = {
  ...(startReleaseEventSchema.parse({
    trigger: 's3',
    bucket: 'stepdeploy-artifacts-123',
    key: 'releases/Site Build.zip',
    versionId: '3sL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY',
    startedBy: '123456789012',
  }) as Extract<StartReleaseEvent, { trigger: 's3' }>),
};

beforeEach(() => {
  sfn.reset();
  sns.reset();
});

describe('executionNameFor', () => {
  it.each([
    ['a push', push, /^commit-3f9a1c2e4b5d6f708192a3b4c5d6e7f8091a2b3c$/],
    ['an upload', upload, /^s3-site-build-[0-9a-f]{20}$/],
  ])('names %s after its source, within the release-id rules', (_case, event, pattern) => {
    // Act
    const name = executionNameFor(event);
    // Assess
    expect(name).toMatch(pattern);
    expect(name).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
    expect(name.length).toBeLessThanOrEqual(60);
  });

  it('gives object versions that differ only in case different names', () => {
    // Act
    const lower = executionNameFor({ ...upload, versionId: 'abc' });
    const upper = executionNameFor({ ...upload, versionId: 'ABC' });
    // Assess
    expect(lower).not.toBe(upper);
  });
});

describe('skippedAnnouncement', () => {
  it.each([
    [
      'a push',
      push,
      /^A push of commit 3f9a1c2e\S+ to main of wordpress-site by arn:aws:iam::123456789012:user\/alice started no release: this source already has one, execution commit-3f9a\S+ \(arn:aws:states:eu-west-1:123456789012:execution:StepdeployRelease:commit-3f9a\S+\); .*stepdeploy status commit-3f9a\S+\. To release the same source again: stepdeploy release --commit 3f9a\S+ --branch main --again$/,
    ],
    [
      'an upload',
      upload,
      /^An upload of s3:\/\/stepdeploy-artifacts-123\/releases\/Site Build\.zip \(version 3sL4\S+\) by 123456789012 started no release: .* stepdeploy release --s3 s3:\/\/stepdeploy-artifacts-123\/releases\/Site Build\.zip --version-id 3sL4\S+ --again$/,
    ],
  ])(
    'says what %s skipped, which execution has it and how to release it anew',
    (_c, event, pattern) => {
      // Act
      const { subject, message } = skippedAnnouncement(event, executionNameFor(event), MACHINE);
      // Assess
      expect(message).toMatch(pattern);
      expect(subject.length).toBeLessThanOrEqual(100);
      expect(subject).toMatch(/^stepdeploy SKIPPED: /);
    },
  );

  it('names the same execution the CLI derives from the same source', () => {
    // Act
    const fromTrigger = executionNameFor(upload);
    const fromSource = sourceExecutionName({ type: 's3', ...upload });
    // Assess
    expect(fromSource).toBe(fromTrigger);
    expect(againCommand(push)).toContain('--again');
  });
});

describe('releaseInputFor', () => {
  it.each([
    ['a push', push],
    ['an upload', upload],
  ])('builds an input the release schema accepts from %s', (_case, event) => {
    // Act
    const parsed = releaseInputSchema.safeParse(releaseInputFor(event));
    // Assess
    expect(parsed.success).toBe(true);
  });

  it('keeps the tail of a long assumed-role caller within the schema limit', () => {
    // Prepare
    const caller = `arn:aws:sts::123456789012:assumed-role/${'r'.repeat(120)}/alice@example.com`;
    // Act
    const input = releaseInputFor({ ...push, startedBy: caller });
    // Assess
    expect(input.startedBy).toHaveLength(128);
    expect(input.startedBy.endsWith('/alice@example.com')).toBe(true);
  });
});

describe('startRelease', () => {
  it('starts the release machine under the deterministic name', async () => {
    // Prepare
    sfn
      .on(StartExecutionCommand)
      .resolves({ executionArn: 'arn:execution', startDate: new Date() });
    // Act
    const result = await startRelease(push, deps());
    // Assess
    expect(result).toEqual({
      status: 'started',
      executionName: `commit-${COMMIT}`,
      executionArn: 'arn:execution',
    });
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: MACHINE,
      name: `commit-${COMMIT}`,
      input: JSON.stringify({
        source: { type: 'codecommit', commitId: COMMIT, branch: 'main' },
        trigger: 'codecommit',
        startedBy: 'arn:aws:iam::123456789012:user/alice',
      }),
    });
  });

  it('announces a push whose commit was already released (name taken), with the command to release it anew', async () => {
    // Prepare
    sfn
      .on(StartExecutionCommand)
      .rejects(
        Object.assign(new Error('Execution Already Exists'), { name: 'ExecutionAlreadyExists' }),
      );
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    // Act
    const result = await startRelease(push, deps());
    // Assess
    expect(result).toEqual({
      status: 'already-started',
      executionName: `commit-${COMMIT}`,
      announcementId: 'm-1',
    });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: TOPIC,
      Subject: `stepdeploy SKIPPED: commit ${COMMIT.slice(0, 12)} already released`,
      Message: expect.stringContaining(
        `stepdeploy release --commit ${COMMIT} --branch main --again`,
      ),
      MessageAttributes: expect.objectContaining({
        outcome: { DataType: 'String', StringValue: 'SKIPPED' },
      }),
    });
  });

  it('fails (so EventBridge retries) when the skipped push cannot be announced', async () => {
    // Prepare
    sfn
      .on(StartExecutionCommand)
      .rejects(
        Object.assign(new Error('Execution Already Exists'), { name: 'ExecutionAlreadyExists' }),
      );
    sns
      .on(PublishCommand)
      .rejects(Object.assign(new Error('kms throttled'), { name: 'KMSThrottling' }));
    // Act
    const attempt = startRelease(push, deps());
    // Assess
    await expect(attempt).rejects.toThrow('kms throttled');
  });

  it('announces nothing for a release it started', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:execution' });
    // Act
    await startRelease(upload, deps());
    // Assess
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  it('lets other failures through so EventBridge retries and then dead-letters the event', async () => {
    // Prepare
    sfn
      .on(StartExecutionCommand)
      .rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    // Act
    const attempt = startRelease(upload, deps());
    // Assess
    await expect(attempt).rejects.toThrow('slow down');
  });

  it('refuses an upload without a version id (unversioned bucket)', () => {
    // Act
    const parsed = startReleaseEventSchema.safeParse({ ...upload, versionId: '' });
    // Assess
    expect(parsed.success).toBe(false);
  });
});
