import { readFileSync } from 'node:fs';
import { Arn, ArnFormat, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { IProject } from 'aws-cdk-lib/aws-codebuild';
import type { ICluster, IService, TaskDefinition } from 'aws-cdk-lib/aws-ecs';
import type { ITargetGroup } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IDatabaseInstance } from 'aws-cdk-lib/aws-rds';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { DefinitionBody, LogLevel, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { aslPath, placeholdersOf } from './asl.ts';
import { nagArn, nagResource } from './nag-ids.ts';
import { passTaskRolesStatement } from './task-roles.ts';

/** Absolute path of the release definition (JSONPath ASL with `${Placeholders}`). */
export const RELEASE_ASL_PATH = aslPath('release');

/** The Lambda steps the release definition invokes, by state name. */
export interface ReleaseFunctions {
  readonly validateInput: IFunction;
  readonly acquireLock: IFunction;
  /** Reads the image the build exported; a missing variable is a named, caught error. */
  readonly readBuildOutput: IFunction;
  /** In the VPC: records the live database's manifest before the snapshot (VerifyData reads it). */
  readonly recordSnapshotManifest: IFunction;
  /** In the VPC: the schema the release left against the one its snapshot's manifest recorded. */
  readonly compareSchema: IFunction;
  readonly registerTaskDefinition: IFunction;
  /** In the VPC: asks the trial task of a new revision directly, before any traffic. */
  readonly checkTrial: IFunction;
  readonly deployService: IFunction;
  readonly checkHealth: IFunction;
  readonly smokeTest: IFunction;
  /** `/readyz` through the ALB: is WordPress installed, or must InstallWordPress run first? */
  readonly checkInstalled: IFunction;
  readonly findLastKnownGood: IFunction;
  readonly recordRelease: IFunction;
  readonly releaseLock: IFunction;
  /** After a recorded success: deletes release snapshots beyond the retention. */
  readonly pruneSnapshots: IFunction;
}

/** How a release verifies its pre-deploy snapshot (config key `releaseVerifyBackup`). */
export type VerifyBackupMode = 'off' | 'warn' | 'block';

/** The verify-restore machine as the release runs it nested (VerifyRestoreStateMachine). */
export interface NestedVerifyRestore {
  readonly stateMachine: StateMachine;
  /** Grants what `states:startExecution.sync:2` on it needs. */
  grantNestedExecution(parentRole: IGrantable): void;
}

/** Everything the release definition's placeholders refer to. */
export interface ReleaseStateMachineProps {
  readonly stateMachineName: string;
  /** Days to keep the execution logs (default three months). */
  readonly logRetention?: RetentionDays;
  readonly functions: ReleaseFunctions;
  readonly buildProject: IProject;
  readonly topic: ITopic;
  readonly cluster: ICluster;
  readonly service: IService & { readonly serviceName: string };
  readonly containerName: string;
  /** Tasks DeployService and Rollback set on the service (config `desiredCount`). */
  readonly desiredCount: number;
  readonly targetGroup: ITargetGroup;
  /** Wrong answers in a row that refuse a trial task (the target group's unhealthy threshold). */
  readonly trialFailingChecks: number;
  readonly database: IDatabaseInstance;
  readonly snapshotPrefix: string;
  readonly siteUrl: string;
  /**
   * The InstallWordPress one-off task (`ecs:runTask.sync` of the new revision with the image's
   * `stepdeploy-install` command): the application's task definition (its family and the two
   * roles RunTask passes) and where the task runs (the service's subnets and security groups).
   */
  readonly install: {
    readonly taskDefinition: TaskDefinition;
    readonly subnetIds: readonly string[];
    readonly securityGroupIds: readonly string[];
  };
  readonly sourceRepositoryUrl: string;
  readonly sourceBucketName: string;
  /** Release snapshots PruneSnapshots keeps (config keepReleaseSnapshots / keepKnownGoodSnapshots). */
  readonly snapshotRetention: { readonly keepNewest: number; readonly keepKnownGood: number };
  /**
   * The VerifyBackup state: with `warn` or `block` the snapshot branch runs `verifyRestore` on
   * the new snapshot (`off` skips it and grants nothing).
   */
  readonly verifyBackup: {
    readonly mode: VerifyBackupMode;
    readonly verifyRestore: NestedVerifyRestore;
  };
}

/**
 * The release state machine: statemachine/release.asl.json inline (so template assertions and
 * `cdk diff` see it) with every placeholder filled, and a role scoped to the build project, the
 * database and its release snapshots, the topic and the step functions, plus (unless
 * `verifyBackup.mode` is `off`) the nested runs of the verify-restore machine.
 */
export class ReleaseStateMachine extends Construct {
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: ReleaseStateMachineProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const asl = readFileSync(RELEASE_ASL_PATH, 'utf8');
    const f = props.functions;
    const substitutions: Record<string, string> = {
      ValidateInputFunctionArn: f.validateInput.functionArn,
      AcquireLockFunctionArn: f.acquireLock.functionArn,
      ReadBuildOutputFunctionArn: f.readBuildOutput.functionArn,
      RecordSnapshotManifestFunctionArn: f.recordSnapshotManifest.functionArn,
      CompareSchemaFunctionArn: f.compareSchema.functionArn,
      RegisterTaskDefinitionFunctionArn: f.registerTaskDefinition.functionArn,
      CheckTrialFunctionArn: f.checkTrial.functionArn,
      DeployServiceFunctionArn: f.deployService.functionArn,
      CheckHealthFunctionArn: f.checkHealth.functionArn,
      SmokeTestFunctionArn: f.smokeTest.functionArn,
      CheckInstalledFunctionArn: f.checkInstalled.functionArn,
      FindLastKnownGoodFunctionArn: f.findLastKnownGood.functionArn,
      RecordReleaseFunctionArn: f.recordRelease.functionArn,
      ReleaseLockFunctionArn: f.releaseLock.functionArn,
      PruneSnapshotsFunctionArn: f.pruneSnapshots.functionArn,
      KeepReleaseSnapshots: String(props.snapshotRetention.keepNewest),
      KeepKnownGoodSnapshots: String(props.snapshotRetention.keepKnownGood),
      BuildProjectName: props.buildProject.projectName,
      TopicArn: props.topic.topicArn,
      ClusterArn: props.cluster.clusterArn,
      ServiceName: props.service.serviceName,
      ContainerName: props.containerName,
      DesiredCount: String(props.desiredCount),
      TrialFailingChecks: String(props.trialFailingChecks),
      TargetGroupArn: props.targetGroup.targetGroupArn,
      DbInstanceIdentifier: props.database.instanceIdentifier,
      SnapshotPrefix: props.snapshotPrefix,
      SiteUrl: props.siteUrl,
      // The ASL splits these on commas (States.StringSplit).
      InstallSubnetIds: props.install.subnetIds.join(','),
      InstallSecurityGroupIds: props.install.securityGroupIds.join(','),
      SourceRepositoryUrl: props.sourceRepositoryUrl,
      SourceBucketName: props.sourceBucketName,
      VerifyBackupMode: props.verifyBackup.mode,
      VerifyRestoreStateMachineArn: props.verifyBackup.verifyRestore.stateMachine.stateMachineArn,
    };
    const missing = placeholdersOf(asl).filter((name) => !(name in substitutions));
    if (missing.length > 0) {
      throw new Error(`${RELEASE_ASL_PATH} has unfilled placeholders: ${missing.join(', ')}`);
    }

    const logs = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      definitionBody: DefinitionBody.fromString(asl),
      definitionSubstitutions: substitutions,
      tracingEnabled: true,
      // Execution data stays out of the logs: the history already has it, logs are wider-read.
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: false },
    });

    // Exact function ARNs (the ASL invokes $LATEST), not grantInvoke's `:*` version wildcard.
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: Object.values(f).map((fn) => fn.functionArn),
      }),
    );
    props.topic.grantPublish(this.stateMachine);

    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ['codebuild:StartBuild', 'codebuild:StopBuild', 'codebuild:BatchGetBuilds'],
        resources: [props.buildProject.projectArn],
      }),
    );
    // startBuild.sync waits through a managed EventBridge rule with this fixed name.
    this.stateMachine.addToRolePolicy(
      syncRuleStatement(stack, 'StepFunctionsGetEventForCodeBuildStartBuildRule'),
    );
    const snapshots = stack.formatArn({
      service: 'rds',
      resource: 'snapshot',
      resourceName: `${props.snapshotPrefix}-*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ['rds:CreateDBSnapshot'],
        resources: [props.database.instanceArn, snapshots],
      }),
    );
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ['rds:AddTagsToResource', 'rds:DescribeDBSnapshots'],
        resources: [snapshots],
      }),
    );
    // InstallWordPress: runTask.sync of a revision of the one family, in the one cluster; the
    // .sync pattern watches (DescribeTasks), stops on timeout (StopTask) and waits through a
    // managed EventBridge rule with a fixed name.
    const family = props.install.taskDefinition.family;
    const revisions = stack.formatArn({
      service: 'ecs',
      resource: 'task-definition',
      resourceName: `${family}:*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    const tasks = stack.formatArn({
      service: 'ecs',
      resource: 'task',
      resourceName: '*',
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    const inCluster = { ArnEquals: { 'ecs:cluster': props.cluster.clusterArn } };
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ['ecs:RunTask'],
        resources: [revisions],
        conditions: inCluster,
      }),
    );
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ['ecs:DescribeTasks', 'ecs:StopTask'],
        resources: [tasks],
        conditions: inCluster,
      }),
    );
    this.stateMachine.addToRolePolicy(
      syncRuleStatement(stack, 'StepFunctionsGetEventsForECSTaskRule'),
    );
    this.stateMachine.addToRolePolicy(passTaskRolesStatement(props.install.taskDefinition));
    Validations.of(this.stateMachine).acknowledge({
      id: `AwsSolutions-IAM5[${nagResource(this, revisions)}]`,
      reason:
        'InstallWordPress and StartTrial run the revision the release just registered, any revision of the one WordPress family, in the one cluster (ecs:cluster condition).',
    });
    Validations.of(this.stateMachine).acknowledge({
      id: `AwsSolutions-IAM5[${nagResource(this, tasks)}]`,
      reason:
        'runTask.sync describes and, on timeout, stops the one-off install task it started, and the release stops its trial task; task ids are per run, pinned to the cluster by the ecs:cluster condition.',
    });

    if (props.verifyBackup.mode !== 'off') {
      const nested = props.verifyBackup.verifyRestore.stateMachine;
      props.verifyBackup.verifyRestore.grantNestedExecution(this.stateMachine);
      const executions = Arn.format(
        {
          service: 'states',
          resource: 'execution',
          resourceName: `${nested.stateMachineName}:*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        },
        stack,
      );
      Validations.of(this.stateMachine).acknowledge({
        id: `AwsSolutions-IAM5[${nagResource(this, executions)}]`,
        reason:
          'startExecution.sync:2 describes and, on timeout, stops the nested verify-restore execution it started; execution names are per run.',
      });
    }
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only X-Ray tracing (xray:PutTraceSegments and friends) and CloudWatch Logs delivery (logs:CreateLogDelivery and friends), which accept no resource ARN.',
    });
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason:
        'Publishing to the KMS-encrypted topic needs GenerateDataKey* on that one key (added by grantPublish).',
    });
    Validations.of(this.stateMachine).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(this, 'rds', `snapshot:${props.snapshotPrefix}-*`)}]`,
      reason:
        'Snapshot names carry the release id, so the release snapshots are scoped by their name prefix.',
    });
  }
}

/** Lets a `.sync` integration manage the EventBridge rule it waits through (a fixed name). */
function syncRuleStatement(stack: Stack, ruleName: string): PolicyStatement {
  return new PolicyStatement({
    actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
    resources: [stack.formatArn({ service: 'events', resource: 'rule', resourceName: ruleName })],
  });
}
