import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../../cli/main.ts';
import { argv, testDeps } from './fixtures.ts';

const cfn = mockClient(CloudFormationClient);
const sfn = mockClient(SFNClient);

/** An error shaped like the SDK's: a name, a message and $metadata. */
function sdkError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });
}

beforeEach(() => {
  cfn.reset();
  sfn.reset();
});

describe('errors say what to do', () => {
  it('no credentials: run aws configure or set AWS_PROFILE', async () => {
    // Prepare: what the default provider chain throws when it finds nothing.
    cfn
      .on(DescribeStacksCommand)
      .rejects(
        sdkError('CredentialsProviderError', 'Could not load credentials from any providers'),
      );
    const deps = testDeps();
    // Act
    const code = await main(argv('status'), deps);
    // Assess
    expect(code).toBe(1);
    expect(deps.stderr).toEqual([
      'error: No AWS credentials were found.',
      'hint:  Run `aws configure` (or `aws sso login`), or set AWS_PROFILE to a configured profile.',
    ]);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('stack not deployed (or another region): run npx cdk deploy, naming stack and region', async () => {
    // Prepare: CloudFormation's answer for an unknown stack name.
    cfn
      .on(DescribeStacksCommand)
      .rejects(sdkError('ValidationError', 'Stack with id Nope does not exist'));
    const deps = testDeps();
    // Act
    const code = await main(
      argv('history', '--stack', 'Nope', '--region', 'us-east-2', '--json'),
      deps,
    );
    // Assess
    expect(code).toBe(1);
    expect(JSON.parse(deps.stdout.join('\n'))).toEqual({
      error: {
        name: 'StackNotFoundError',
        message: 'Stack Nope is not deployed in region us-east-2.',
        hint: 'Run `npx cdk deploy --all` to deploy it, or pass --stack <name> / --region <region> if it lives elsewhere (looked in us-east-2).',
      },
    });
  });

  it('expired credentials: refresh them', async () => {
    // Prepare
    cfn
      .on(DescribeStacksCommand)
      .rejects(sdkError('ExpiredToken', 'The security token included in the request is expired'));
    const deps = testDeps();
    // Act
    const code = await main(argv('logs'), deps);
    // Assess
    expect(code).toBe(1);
    expect(deps.stderr[0]).toBe(
      'error: AWS rejected the credentials (ExpiredToken): they are invalid or expired.',
    );
  });

  it('a stack that predates an output names the missing output', async () => {
    // Prepare
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'stepdeploy-pipeline',
          StackStatus: 'CREATE_COMPLETE',
          CreationTime: new Date(0),
          Outputs: [],
        },
      ],
    });
    const deps = testDeps();
    // Act
    const code = await main(argv('verify-backup'), deps);
    // Assess
    expect(code).toBe(1);
    expect(deps.stderr[0]).toBe(
      'error: Stack stepdeploy-pipeline has no output VerifyRestoreStateMachineArn.',
    );
  });

  it('--help lists every command with a one-line purpose and examples', async () => {
    // Prepare
    const deps = testDeps();
    // Act
    const code = await main(argv('--help'), deps);
    // Assess
    expect(code).toBe(0);
    const help = deps.stdout.join('\n');
    for (const command of ['release', 'status', 'history', 'rollback', 'verify-backup', 'logs']) {
      expect(help).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
    expect(help).toContain('Examples:');
    expect(cfn.calls()).toHaveLength(0);
  });
});
