import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { StackNotFoundError, stackMissingHint, type Target } from './errors.ts';

/**
 * Output keys the pipeline stack publishes and the command line reads, so nobody types an
 * ARN. Constructs nested in the stack override their outputs' logical ids to these names.
 */
export const STACK_OUTPUTS = {
  releaseStateMachineArn: 'ReleaseStateMachineArn',
  verifyRestoreStateMachineArn: 'VerifyRestoreStateMachineArn',
  ledgerTableName: 'LedgerTableName',
  lockTableName: 'LockTableName',
  buildProjectName: 'BuildProjectName',
  notificationTopicArn: 'NotificationTopicArn',
  sourceRepositoryName: 'SourceRepositoryName',
  sourceBranch: 'SourceBranch',
  artifactBucketName: 'ArtifactBucketName',
  dashboardName: 'DashboardName',
  serviceName: 'ServiceName',
} as const;

/** A stack output key the command line knows. */
export type OutputName = keyof typeof STACK_OUTPUTS;

/** Options every AWS command accepts. */
export interface AwsOptions {
  readonly stack: string;
  readonly region?: string;
  readonly profile?: string;
}

/** SDK clients for one command run, created lazily so bad flags never create one. */
export class AwsContext {
  readonly target: Target;
  private outputs?: Promise<Map<string, string>>;
  private readonly config: { region?: string; profile?: string };
  private cache = new Map<string, unknown>();

  constructor(readonly options: AwsOptions) {
    this.target = {
      stackName: options.stack,
      region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION,
    };
    this.config = {
      ...(options.region ? { region: options.region } : {}),
      ...(options.profile ? { profile: options.profile } : {}),
    };
  }

  private client<T>(key: string, make: () => T): T {
    if (!this.cache.has(key)) this.cache.set(key, make());
    return this.cache.get(key) as T;
  }

  get sfn(): SFNClient {
    return this.client('sfn', () => new SFNClient(this.config));
  }
  get cloudFormation(): CloudFormationClient {
    return this.client('cfn', () => new CloudFormationClient(this.config));
  }
  get dynamodb(): DynamoDBClient {
    return this.client('ddb', () => new DynamoDBClient(this.config));
  }
  get codebuild(): CodeBuildClient {
    return this.client('codebuild', () => new CodeBuildClient(this.config));
  }
  get logs(): CloudWatchLogsClient {
    return this.client('logs', () => new CloudWatchLogsClient(this.config));
  }

  /** The region the SDK resolved, for console links. */
  async region(): Promise<string> {
    return this.target.region ?? (await this.sfn.config.region());
  }

  /** One stack output by name; fails naming the missing output and what to do. */
  async output(name: OutputName): Promise<string> {
    const value = await this.optionalOutput(name);
    if (value === undefined) {
      throw new StackNotFoundError(
        `Stack ${this.target.stackName} has no output ${STACK_OUTPUTS[name]}.`,
        `It may predate this command line: ${stackMissingHint(this.target)}`,
      );
    }
    return value;
  }

  /** One stack output by name, or undefined when the stack does not publish it. */
  async optionalOutput(name: OutputName): Promise<string | undefined> {
    this.outputs ??= this.describe();
    return (await this.outputs).get(STACK_OUTPUTS[name]);
  }

  private async describe(): Promise<Map<string, string>> {
    const response = await this.cloudFormation.send(
      new DescribeStacksCommand({ StackName: this.target.stackName }),
    );
    const stack = response.Stacks?.[0];
    if (!stack) {
      throw new StackNotFoundError(
        `Stack ${this.target.stackName} is not deployed.`,
        stackMissingHint(this.target),
      );
    }
    if (stack.StackStatus?.endsWith('_IN_PROGRESS') && !stack.Outputs?.length) {
      throw new StackNotFoundError(
        `Stack ${this.target.stackName} is still being created (${stack.StackStatus}).`,
        'Wait for `npx cdk deploy` to finish, then run the command again.',
      );
    }
    const outputs = new Map<string, string>();
    for (const output of stack.Outputs ?? []) {
      if (output.OutputKey && output.OutputValue) outputs.set(output.OutputKey, output.OutputValue);
    }
    return outputs;
  }
}

/** The Step Functions console page of an execution. */
export function executionConsoleUrl(region: string, executionArn: string): string {
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

/** The execution ARN for a name under a state machine (`arn:…:stateMachine:M` → `arn:…:execution:M:name`). */
export function executionArnFor(stateMachineArn: string, nameOrArn: string): string {
  if (nameOrArn.startsWith('arn:')) return nameOrArn;
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${nameOrArn}`;
}
