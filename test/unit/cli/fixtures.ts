import type { Stack } from '@aws-sdk/client-cloudformation';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
// Types only: the matchers are registered at runtime by test/setup/aws-mock-matchers.ts.
import type {} from 'aws-sdk-client-mock-vitest/extend';
import { AwsContext } from '../../../cli/aws.ts';
import type { CliDeps } from '../../../cli/runtime.ts';

export const REGION = 'eu-west-1';
export const MACHINE_ARN = `arn:aws:states:${REGION}:123456789012:stateMachine:StepdeployRelease`;
export const VERIFY_ARN = `arn:aws:states:${REGION}:123456789012:stateMachine:StepdeployVerifyRestore`;
export const COMMIT = '3f9a1c2e4b5d6f708192a3b4c5d6e7f8091a2b3c';
export const T0 = Date.parse('2025-03-01T10:00:00Z');

/** DescribeStacks output shaped like the deployed pipeline stack's. */
export const STACK: Stack = {
  StackName: 'stepdeploy-pipeline',
  StackStatus: 'UPDATE_COMPLETE',
  CreationTime: new Date(T0 - 86_400_000),
  Outputs: [
    { OutputKey: 'ReleaseStateMachineArn', OutputValue: MACHINE_ARN },
    { OutputKey: 'VerifyRestoreStateMachineArn', OutputValue: VERIFY_ARN },
    { OutputKey: 'LedgerTableName', OutputValue: 'StepdeployPipeline-Ledger' },
    { OutputKey: 'ServiceName', OutputValue: 'stepdeploy-wordpress' },
    { OutputKey: 'ArtifactBucketName', OutputValue: 'stepdeploy-artifacts-123' },
  ],
};

export const RELEASE_INPUT = {
  source: { type: 'codecommit', commitId: COMMIT, branch: 'main' },
  trigger: 'codecommit',
  startedBy: 'arn:aws:iam::123456789012:user/alice',
};

/**
 * Builds a GetExecutionHistory event list the way Step Functions records it: ids in order,
 * each previousEventId pointing at the event before it in the same branch, and task events
 * (Scheduled/Started/Succeeded/Failed) between a state's Entered and Exited events.
 */
export class HistoryBuilder {
  readonly events: HistoryEvent[] = [];
  private at = T0;

  private push(
    event: Omit<HistoryEvent, 'id' | 'previousEventId' | 'timestamp'>,
    seconds: number,
    previous?: number,
  ): number {
    this.at += seconds * 1000;
    const id = this.events.length + 1;
    this.events.push({
      ...event,
      id,
      previousEventId: previous ?? id - 1,
      timestamp: new Date(this.at),
    } as HistoryEvent);
    return id;
  }

  started(input: unknown = RELEASE_INPUT): this {
    this.push(
      {
        type: 'ExecutionStarted',
        executionStartedEventDetails: {
          input: JSON.stringify(input),
          roleArn: 'arn:aws:iam::123456789012:role/StepdeployReleaseRole',
        },
      },
      0,
      0,
    );
    return this;
  }

  enter(name: string, type = 'Task', seconds = 0): this {
    this.push(
      { type: `${type}StateEntered` as never, stateEnteredEventDetails: { name, input: '{}' } },
      seconds,
    );
    return this;
  }

  exit(name: string, type = 'Task', seconds = 0): this {
    this.push(
      { type: `${type}StateExited` as never, stateExitedEventDetails: { name, output: '{}' } },
      seconds,
    );
    return this;
  }

  /** A Lambda task that runs for `seconds` and succeeds. */
  lambda(name: string, seconds: number): this {
    this.enter(name);
    this.push(
      {
        type: 'TaskScheduled',
        taskScheduledEventDetails: {
          resourceType: 'lambda',
          resource: 'invoke',
          region: REGION,
          parameters: '{}',
        },
      },
      0,
    );
    this.push(
      {
        type: 'TaskStarted',
        taskStartedEventDetails: { resourceType: 'lambda', resource: 'invoke' },
      },
      0.1,
    );
    this.push(
      {
        type: 'TaskSucceeded',
        taskSucceededEventDetails: { resourceType: 'lambda', resource: 'invoke', output: '{}' },
      },
      seconds,
    );
    return this.exit(name);
  }

  /** A Lambda task that fails with error/cause; a Catch then routes on (no Exited event). */
  lambdaFails(name: string, seconds: number, error: string, cause: string): this {
    this.enter(name);
    this.push(
      {
        type: 'TaskScheduled',
        taskScheduledEventDetails: {
          resourceType: 'lambda',
          resource: 'invoke',
          region: REGION,
          parameters: '{}',
        },
      },
      0,
    );
    this.push(
      {
        type: 'TaskStarted',
        taskStartedEventDetails: { resourceType: 'lambda', resource: 'invoke' },
      },
      0.1,
    );
    this.push(
      {
        type: 'TaskFailed',
        taskFailedEventDetails: { resourceType: 'lambda', resource: 'invoke', error, cause },
      },
      seconds,
    );
    return this;
  }

  /** A Lambda task that is scheduled and started but has not finished yet. */
  lambdaRunning(name: string): this {
    this.enter(name);
    this.push(
      {
        type: 'TaskScheduled',
        taskScheduledEventDetails: {
          resourceType: 'lambda',
          resource: 'invoke',
          region: REGION,
          parameters: '{}',
        },
      },
      0,
    );
    this.push(
      {
        type: 'TaskStarted',
        taskStartedEventDetails: { resourceType: 'lambda', resource: 'invoke' },
      },
      0.1,
    );
    return this;
  }

  /** The CodeBuild image build (startBuild.sync), with its build id in the task output. */
  build(seconds: number): this {
    this.enter('BuildImage');
    this.push(
      {
        type: 'TaskScheduled',
        taskScheduledEventDetails: {
          resourceType: 'codebuild',
          resource: 'startBuild.sync',
          region: REGION,
          parameters: '{"ProjectName":"StepdeployImage"}',
        },
      },
      0,
    );
    this.push(
      {
        type: 'TaskStarted',
        taskStartedEventDetails: { resourceType: 'codebuild', resource: 'startBuild.sync' },
      },
      0.2,
    );
    this.push(
      {
        type: 'TaskSubmitted',
        taskSubmittedEventDetails: {
          resourceType: 'codebuild',
          resource: 'startBuild.sync',
          output: JSON.stringify({ Build: { Id: 'StepdeployImage:0f1e2d3c' } }),
        },
      },
      0.3,
    );
    this.push(
      {
        type: 'TaskSucceeded',
        taskSucceededEventDetails: {
          resourceType: 'codebuild',
          resource: 'startBuild.sync',
          output: JSON.stringify({
            Build: { Id: 'StepdeployImage:0f1e2d3c', BuildStatus: 'SUCCEEDED' },
          }),
        },
      },
      seconds,
    );
    return this.exit('BuildImage');
  }

  pass(name: string): this {
    return this.enter(name, 'Pass').exit(name, 'Pass');
  }

  wait(name: string, seconds: number): this {
    return this.enter(name, 'Wait').exit(name, 'Wait', seconds);
  }

  succeeded(): this {
    this.push(
      { type: 'SucceedStateEntered', stateEnteredEventDetails: { name: 'Released', input: '{}' } },
      0,
    );
    this.push(
      { type: 'SucceedStateExited', stateExitedEventDetails: { name: 'Released', output: '{}' } },
      0,
    );
    this.push({ type: 'ExecutionSucceeded', executionSucceededEventDetails: { output: '{}' } }, 0);
    return this;
  }

  failed(error: string, cause: string): this {
    this.push(
      { type: 'FailStateEntered', stateEnteredEventDetails: { name: 'Failed', input: '{}' } },
      0,
    );
    this.push({ type: 'ExecutionFailed', executionFailedEventDetails: { error, cause } }, 0);
    return this;
  }

  /** Seconds since T0 of the last event: the "now" of a running execution. */
  get nowMs(): number {
    return this.at;
  }
}

/** The first part of every release: validate, lock, build and snapshot in parallel. */
export function releaseStart(builder = new HistoryBuilder()): HistoryBuilder {
  return builder
    .started()
    .lambda('ValidateInput', 0.4)
    .lambda('AcquireLock', 0.6)
    .enter('BuildAndSnapshot', 'Parallel')
    .build(182)
    .exit('BuildAndSnapshot', 'Parallel')
    .lambda('RegisterTaskDefinition', 0.8)
    .lambda('DeployService', 1.2);
}

/** A release that is polling health right now. */
export function runningRelease(): HistoryBuilder {
  return releaseStart()
    .wait('WaitForHealth', 15)
    .lambda('CheckHealth', 0.5)
    .wait('WaitForHealth', 15)
    .lambdaRunning('CheckHealth');
}

/** A release that went all the way through. */
export function succeededRelease(): HistoryBuilder {
  return releaseStart()
    .wait('WaitForHealth', 15)
    .lambda('CheckHealth', 0.5)
    .pass('Healthy')
    .lambda('SmokeTest', 2)
    .pass('Succeeded')
    .lambda('RecordRelease', 0.3)
    .lambda('ReleaseLock', 0.2)
    .lambda('Notify', 0.2)
    .succeeded();
}

export const HEALTH_CAUSE =
  'target 10.0.1.23:8080 unhealthy: Target.ResponseCodeMismatch (health checks failed with 503: db-unreachable)';

/** What CompareSchema adds to a rollback's message when the release's code changed the schema. */
export const SCHEMA_NOTE =
  ' The code was rolled back but the schema was not: db_version 58975 unchanged; tables added: wp_shop_log; restore the pre-release snapshot stepdeploy-release-x to undo it.';

/**
 * A release whose new tasks never got healthy and that went back to the last known-good;
 * `schemaNote` is what CompareSchema said about the schema it left ('' when unchanged), and
 * `announced: false` makes its own Notify fail (SNS unavailable, caught).
 */
export function rolledBackRelease(schemaNote = '', announced = true): HistoryBuilder {
  const history = releaseStart()
    .wait('WaitForHealth', 15)
    .lambdaFails('CheckHealth', 0.5, 'UnhealthyTargetsError', HEALTH_CAUSE)
    .pass('CheckHealthFailed')
    .lambda('FindLastKnownGood', 0.4)
    .lambda('Rollback', 1.1)
    .wait('WaitForRollbackHealth', 15)
    .lambda('CheckRollbackHealth', 0.5)
    .pass('RolledBack')
    .lambda('CompareSchema', 0.3)
    .pass('SchemaNoted')
    .lambda('RecordRelease', 0.3)
    .lambda('ReleaseLock', 0.2);
  return (
    announced
      ? history.lambda('Notify', 0.2)
      : history.lambdaFails('Notify', 0.2, 'SNS.InternalErrorException', 'Service unavailable')
  ).failed(
    'ROLLED_BACK',
    `Release x FAILED at step CheckHealth (UnhealthyTargetsError): ${HEALTH_CAUSE}. Rolled back to stepdeploy-wordpress:41, which is healthy.${schemaNote}`,
  );
}

/** Captured output and fixed clock/sleep for one command run. */
export function testDeps(nowMs = T0 + 600_000): CliDeps & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    io: { out: (text) => stdout.push(text), err: (text) => stderr.push(text), isTty: false },
    now: () => new Date(nowMs),
    sleep: async () => {},
    env: { STEPDEPLOY_STARTED_BY: 'alice@laptop' },
    aws: (options) => new AwsContext({ ...options, region: options.region ?? REGION }),
    exitCode: 0,
  };
}

/** argv as node passes it. */
export function argv(...args: string[]): string[] {
  return ['node', 'stepdeploy', ...args];
}
