import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { sourceExecutionName } from '#functions/start-release/start-release.ts';
import { main } from '../../../cli/main.ts';
import { argv, COMMIT, MACHINE_ARN, REGION, STACK, T0, testDeps } from './fixtures.ts';

const cfn = mockClient(CloudFormationClient);
const sfn = mockClient(SFNClient);
const ddb = mockClient(DynamoDBClient);
const DIGEST = 'a'.repeat(64);
const IMAGE = `123456789012.dkr.ecr.${REGION}.amazonaws.com/stepdeploy-wordpress@sha256:${DIGEST}`;

beforeEach(() => {
  cfn.reset();
  sfn.reset();
  ddb.reset();
  cfn.on(DescribeStacksCommand).resolves({ Stacks: [STACK] });
  sfn.on(StartExecutionCommand).callsFake(({ name }) => ({
    executionArn: `${MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`,
    startDate: new Date(T0),
  }));
});

describe('stepdeploy release refuses bad input before calling AWS', () => {
  it.each([
    ['no source at all', [], 'Say what to release'],
    ['two sources', ['--commit', COMMIT, '--image', IMAGE], 'Give only one source'],
    [
      'a short commit id',
      ['--commit', '3f9a1c2'],
      'source.commitId: must be a full 40-character commit id',
    ],
    [
      'an image without digest',
      ['--image', 'wordpress:latest'],
      'source.imageUri: must be pinned by digest',
    ],
    [
      'an object that is not a zip',
      ['--s3', 'releases/site.tar', '--version-id', 'v1'],
      'source.key: must name a .zip object',
    ],
    ['an object without version', ['--s3', 'releases/site.zip'], '--s3 needs --version-id'],
  ])('%s', async (_case, args, message) => {
    // Prepare
    const deps = testDeps();
    // Act
    const code = await main(argv('release', ...args), deps);
    // Assess
    expect(code).toBe(2);
    expect(deps.stderr.join('\n')).toContain(message);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
    expect(sfn.calls()).toHaveLength(0);
    expect(cfn.calls()).toHaveLength(0);
  });

  it('reports the refusal as JSON with --json', async () => {
    // Prepare
    const deps = testDeps();
    // Act
    const code = await main(argv('release', '--commit', 'nope', '--json'), deps);
    // Assess
    expect(code).toBe(2);
    expect(JSON.parse(deps.stdout.join('\n'))).toEqual({
      error: {
        name: 'UsageError',
        message:
          'The release input is not valid: source.commitId: must be a full 40-character commit id.',
        hint: 'Nothing was started. Fix the flags and run the command again.',
      },
    });
    expect(sfn.calls()).toHaveLength(0);
  });
});

describe('stepdeploy release starts the release machine found in the stack', () => {
  it('from a commit, under the name its push would get, with the schema-shaped input', async () => {
    // Prepare
    const deps = testDeps();
    // Act
    const code = await main(
      argv('release', '--commit', COMMIT, '--branch', 'main', '--json'),
      deps,
    );
    // Assess
    expect(code).toBe(0);
    const name = `commit-${COMMIT}`;
    const input = {
      source: { type: 'codecommit', commitId: COMMIT, branch: 'main' },
      trigger: 'manual',
      startedBy: 'alice@laptop',
      options: {
        skipRestoreTest: false,
        healthTimeoutSeconds: 900,
        pollIntervalSeconds: 15,
        maxUnhealthyPolls: 6,
        requiredHealthyPolls: 2,
        smokeAttempts: 5,
      },
    };
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: MACHINE_ARN,
      name,
      input: JSON.stringify(input),
    });
    expect(cfn).toHaveReceivedCommandWith(DescribeStacksCommand, {
      StackName: 'stepdeploy-pipeline',
    });
    expect(JSON.parse(deps.stdout.join('\n'))).toEqual({
      executionArn: `arn:aws:states:${REGION}:123456789012:execution:StepdeployRelease:${name}`,
      name,
      input,
    });
  });

  it('refuses a commit that already has a release, saying how to release it anew', async () => {
    // Prepare
    const deps = testDeps();
    sfn
      .on(StartExecutionCommand)
      .rejects(
        Object.assign(new Error('Execution Already Exists'), { name: 'ExecutionAlreadyExists' }),
      );
    // Act
    const code = await main(argv('release', '--commit', COMMIT), deps);
    // Assess
    expect(code).toBe(2);
    const err = deps.stderr.join('\n');
    expect(err).toContain(`Commit ${COMMIT} already has a release: execution commit-${COMMIT}`);
    expect(err).toContain(`stepdeploy status commit-${COMMIT}`);
    expect(err).toContain('--again');
  });

  it('--again releases the same commit anew: a unique name, so a new release id and snapshot', async () => {
    // Prepare
    const deps = testDeps();
    // Act
    const code = await main(argv('release', '--commit', COMMIT, '--again', '--json'), deps);
    // Assess
    expect(code).toBe(0);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      name: 'again-20250301T101000Z-commit-3f9a1c2e4b5d',
    });
    const started = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(JSON.parse(started?.input ?? '{}')).not.toHaveProperty('releaseId');
  });

  it('names an S3 object version as its upload trigger would (the stack’s bucket)', async () => {
    // Prepare
    const deps = testDeps();
    // Act
    const code = await main(
      argv('release', '--s3', 'releases/site.zip', '--version-id', 'v1', '--json'),
      deps,
    );
    // Assess
    expect(code).toBe(0);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      name: sourceExecutionName({
        type: 's3',
        bucket: 'stepdeploy-artifacts-123',
        key: 'releases/site.zip',
        versionId: 'v1',
      }),
    });
  });

  it('refuses --again with --image, before calling AWS', async () => {
    // Prepare
    const deps = testDeps();
    // Act
    const code = await main(argv('release', '--image', IMAGE, '--again'), deps);
    // Assess
    expect(code).toBe(2);
    expect(deps.stderr.join('\n')).toContain('--again is for --commit and --s3');
    expect(sfn.calls()).toHaveLength(0);
  });

  it('from an S3 object version, refusing a bucket other than the stack’s', async () => {
    // Prepare
    const deps = testDeps();
    // Act
    const code = await main(
      argv('release', '--s3', 's3://someone-else/releases/site.zip', '--version-id', 'v1'),
      deps,
    );
    // Assess
    expect(code).toBe(2);
    expect(deps.stderr.join('\n')).toContain('artifact bucket stepdeploy-artifacts-123');
    expect(sfn.calls()).toHaveLength(0);
  });

  it('--dry-run validates and prints the input but starts nothing', async () => {
    // Prepare
    const deps = testDeps();
    // Act
    const code = await main(argv('release', '--image', IMAGE, '--dry-run'), deps);
    // Assess
    expect(code).toBe(0);
    expect(deps.stdout.join('\n')).toContain('nothing was started');
    expect(sfn.calls()).toHaveLength(0);
  });
});

describe('stepdeploy rollback', () => {
  const record = (releaseId: string, outcome: string, finishedAt: string, digest: string) =>
    marshall({
      service: 'stepdeploy-wordpress',
      releaseId,
      outcome,
      startedAt: finishedAt,
      finishedAt,
      trigger: 'codecommit',
      startedBy: 'alice',
      source: { type: 'codecommit', commitId: COMMIT },
      imageUri: `123456789012.dkr.ecr.${REGION}.amazonaws.com/stepdeploy-wordpress@sha256:${digest.repeat(64)}`,
      taskDefinitionArn: `arn:aws:ecs:${REGION}:123456789012:task-definition/stepdeploy-wordpress:${releaseId.length}`,
    });

  it('releases the newest good image older than the live one, through the release machine', async () => {
    // Prepare: c is live, b failed, a is the last known-good before c.
    ddb.on(QueryCommand).resolves({
      Items: [
        record('rel-a', 'SUCCEEDED', '2025-02-01T10:00:00Z', 'a'),
        record('rel-b', 'ROLLED_BACK', '2025-02-02T10:00:00Z', 'b'),
        record('rel-c', 'SUCCEEDED', '2025-02-03T10:00:00Z', 'c'),
      ],
    });
    const deps = testDeps();
    // Act
    const code = await main(argv('rollback'), deps);
    // Assess
    expect(code).toBe(0);
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      TableName: 'StepdeployPipeline-Ledger',
      ExpressionAttributeValues: { ':service': { S: 'stepdeploy-wordpress' } },
    });
    const call = sfn.commandCalls(StartExecutionCommand)[0];
    expect(call?.args[0].input.name).toBe('rollback-20250301T101000Z-image-aaaaaaaaaaaa');
    expect(JSON.parse(call?.args[0].input.input ?? '{}').source).toEqual({
      type: 'image',
      imageUri: `123456789012.dkr.ecr.${REGION}.amazonaws.com/stepdeploy-wordpress@sha256:${'a'.repeat(64)}`,
    });
  });

  it('refuses to roll back to a release that never passed health gating', async () => {
    // Prepare
    ddb
      .on(QueryCommand)
      .resolves({ Items: [record('rel-b', 'ROLLED_BACK', '2025-02-02T10:00:00Z', 'b')] });
    const deps = testDeps();
    // Act
    const code = await main(argv('rollback', '--to', 'rel-b'), deps);
    // Assess
    expect(code).toBe(2);
    expect(deps.stderr.join('\n')).toContain('never passed health gating');
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
  });
});
