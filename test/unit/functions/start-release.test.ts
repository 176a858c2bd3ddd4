import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { releaseInputSchema } from '#commons/release.ts';
import {
  type StartReleaseEvent,
  startReleaseEventSchema,
} from '#functions/start-release/schema.ts';
import {
  executionNameFor,
  releaseInputFor,
  startRelease,
} from '#functions/start-release/start-release.ts';

const sfn = mockClient(SFNClient);
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

beforeEach(() => sfn.reset());

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
    const result = await startRelease(push, { sfn: new SFNClient({}), stateMachineArn: MACHINE });
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

  it('treats a redelivered event (ExecutionAlreadyExists) as already started, not as a failure', async () => {
    // Prepare
    sfn
      .on(StartExecutionCommand)
      .rejects(
        Object.assign(new Error('Execution Already Exists'), { name: 'ExecutionAlreadyExists' }),
      );
    // Act
    const result = await startRelease(push, { sfn: new SFNClient({}), stateMachineArn: MACHINE });
    // Assess
    expect(result).toEqual({ status: 'already-started', executionName: `commit-${COMMIT}` });
  });

  it('lets other failures through so EventBridge retries and then dead-letters the event', async () => {
    // Prepare
    sfn
      .on(StartExecutionCommand)
      .rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    // Act
    const attempt = startRelease(upload, { sfn: new SFNClient({}), stateMachineArn: MACHINE });
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
