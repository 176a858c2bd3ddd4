import { readFileSync } from 'node:fs';
import { ArnFormat, type Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { SCRATCH_TAG } from '#commons/verify-scratch.ts';
import { acknowledge } from '../../nag.ts';
import {
  type ArnPattern,
  CLUSTER_TASKS,
  patternArn,
  rdsPattern,
  scratchInstances,
} from '../arn-patterns.ts';
import { aslPath, placeholdersOf } from '../asl.ts';
import { nagResource } from '../nag-ids.ts';
import { passTaskRolesStatement } from '../task-roles.ts';

/** Absolute path of the verification definition (JSONPath ASL with `${Placeholders}`). */
export const VERIFY_RESTORE_ASL_PATH = aslPath('verify-restore');

/** The Lambda steps the verification definition invokes, by state name. */
export interface VerifyRestoreFunctions {
  readonly pickSnapshot: IFunction;
  readonly verifyData: IFunction;
  readonly verifyApplication: IFunction;
  readonly publishMetrics: IFunction;
  readonly registerVerificationTaskDefinition: IFunction;
}

/** How often a wait loop of the machine asks, and how long it asks at most. */
export interface PollSettings {
  readonly everySeconds: number;
  readonly timeout: Duration;
}

/** Everything the verification definition's placeholders refer to. */
export interface VerifyRestoreMachineProps {
  readonly stateMachineName: string;
  /** Days to keep the execution logs (default three months). */
  readonly logRetention?: logs.RetentionDays;
  readonly functions: VerifyRestoreFunctions;
  /** Name prefix of the scratch instances the machine restores, watches and deletes. */
  readonly scratchPrefix: string;
  readonly scratchInstanceClass: string;
  readonly scratchSubnetGroup: rds.ISubnetGroup;
  readonly scratchSecurityGroup: ec2.ISecurityGroup;
  /** WaitForScratch / DescribeScratchInstance. */
  readonly restorePoll: PollSettings;
  /** WaitForApplication / VerifyApplication. */
  readonly applicationPoll: PollSettings;
  readonly cluster: ecs.ICluster;
  readonly serviceName: string;
  readonly containerName: string;
  /** The application's task definition: RunVerificationTask passes its roles. */
  readonly taskDefinition: ecs.TaskDefinition;
  /** Family of the verification's revisions, the only ones RunVerificationTask may run. */
  readonly verificationFamily: string;
  readonly verificationSiteUrl: string;
  /** Subnets of the one-off task. */
  readonly verifierSubnetIds: readonly string[];
  /** Groups of the one-off task (the verifier group first). */
  readonly taskSecurityGroups: readonly ec2.ISecurityGroup[];
  readonly topic: sns.ITopic;
}

/**
 * The verify-restore state machine: statemachine/verify-restore.asl.json inline
 * (DefinitionBody.fromString, so template assertions and `cdk diff` see it) with every
 * placeholder filled, and a role that may restore, watch and delete scratch instances only, run
 * and stop the verification family's one-off task only, invoke its steps and publish to the
 * topic. Created in `scope` under the ids the machine always had, not a Construct node of its
 * own: the machine has a fixed name, and a moved logical id would make CloudFormation create a
 * second machine of that name, which fails (see ScratchRestore).
 */
export class VerifyRestoreMachine {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, props: VerifyRestoreMachineProps) {
    const asl = readFileSync(VERIFY_RESTORE_ASL_PATH, 'utf8');
    const f = props.functions;
    const polls = (poll: PollSettings) =>
      String(Math.max(1, Math.ceil(poll.timeout.toSeconds() / poll.everySeconds)));
    const substitutions: Record<string, string> = {
      RestorePollSeconds: String(props.restorePoll.everySeconds),
      RestoreMaxPolls: polls(props.restorePoll),
      ApplicationPollSeconds: String(props.applicationPoll.everySeconds),
      ApplicationMaxPolls: polls(props.applicationPoll),
      PickSnapshotFunctionArn: f.pickSnapshot.functionArn,
      VerifyDataFunctionArn: f.verifyData.functionArn,
      VerifyApplicationFunctionArn: f.verifyApplication.functionArn,
      PublishMetricsFunctionArn: f.publishMetrics.functionArn,
      RegisterVerificationTaskDefinitionFunctionArn:
        f.registerVerificationTaskDefinition.functionArn,
      VerificationSiteUrl: props.verificationSiteUrl,
      ScratchInstanceClass: props.scratchInstanceClass,
      ScratchSubnetGroupName: props.scratchSubnetGroup.subnetGroupName,
      ScratchSecurityGroupId: props.scratchSecurityGroup.securityGroupId,
      ClusterArn: props.cluster.clusterArn,
      ServiceName: props.serviceName,
      ContainerName: props.containerName,
      // The ASL splits these on commas (States.StringSplit).
      VerifierSubnetIds: props.verifierSubnetIds.join(','),
      VerificationTaskSecurityGroupIds: props.taskSecurityGroups
        .map((g) => g.securityGroupId)
        .join(','),
      TopicArn: props.topic.topicArn,
    };
    const wanted = placeholdersOf(asl);
    const missing = wanted.filter((name) => !(name in substitutions));
    const extra = Object.keys(substitutions).filter((name) => !wanted.includes(name));
    if (missing.length > 0 || extra.length > 0) {
      throw new Error(
        `verify-restore.asl.json substitutions out of step: missing ${missing.join(', ') || 'none'}, unused ${extra.join(', ') || 'none'}`,
      );
    }

    const logGroup = new logs.LogGroup(scope, 'StateMachineLogs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(scope, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      definitionBody: sfn.DefinitionBody.fromString(asl),
      definitionSubstitutions: substitutions,
      tracingEnabled: true,
      // Execution data stays out of the logs: the history already has it, logs are wider-read.
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    const invoked = Object.values(f);
    for (const fn of invoked) fn.grantInvoke(this.stateMachine.role);
    props.topic.grantPublish(this.stateMachine.role);
    this.grantScratchInstances(scope, props);
    this.grantVerificationTask(scope, props);

    // cdk-nag findings name each wildcard resource, so each is acknowledged by its rendered name.
    const wildcard = (pattern: ArnPattern | string) =>
      `AwsSolutions-IAM5[${nagResource(scope, typeof pattern === 'string' ? pattern : patternArn(scope, pattern))}]`;
    const findings: Record<string, string> = {
      'AwsSolutions-IAM5[Resource::*]':
        'Only X-Ray tracing and CloudWatch Logs delivery (logs:CreateLogDelivery and friends), which accept no resource ARN.',
      [wildcard(scratchInstances(props.scratchPrefix))]:
        'Scratch instances only (name pattern), restore and delete further conditioned on the scratch tag.',
      'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]':
        "Publishing to a KMS-encrypted topic needs GenerateDataKey* on that topic's one key (grantPublish).",
      [wildcard(rdsPattern('snapshot', '*'))]: 'A restore reads the snapshot it is given.',
      [wildcard(rdsPattern('og', '*'))]: 'A restore reads the option group the snapshot names.',
      [wildcard(rdsPattern('pg', '*'))]: 'A restore reads the parameter group the snapshot names.',
      [wildcard(CLUSTER_TASKS)]:
        'The one-off verification task of this cluster (conditioned on ecs:cluster / RunTask).',
      [wildcard(verificationRevisions(props.verificationFamily))]:
        'Any revision of the verification family: RegisterVerificationTaskDefinition registers it from the current revision at run time.',
    };
    for (const fn of invoked) {
      findings[wildcard(`${fn.functionArn}:*`)] =
        'grantInvoke covers the function versions of a step this machine calls.';
    }
    acknowledge(this.stateMachine, findings);
  }

  /**
   * RestoreScratchInstance, DescribeScratchInstance and DeleteScratchInstance: restore only from
   * this account's snapshots into the scratch subnet group, and only a new instance named and
   * tagged as scratch; watch and delete only scratch instances (delete only tagged ones).
   */
  private grantScratchInstances(scope: Construct, props: VerifyRestoreMachineProps): void {
    const role = this.stateMachine.role;
    const scratch = patternArn(scope, scratchInstances(props.scratchPrefix));
    const tagged = (key: 'RequestTag' | 'ResourceTag') => ({
      StringEquals: { [`aws:${key}/${SCRATCH_TAG}`]: 'true' },
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RestoreOnlyTaggedScratch',
        actions: ['rds:RestoreDBInstanceFromDBSnapshot'],
        resources: [scratch],
        conditions: tagged('RequestTag'),
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RestoreFromThisDatabasesSnapshots',
        actions: ['rds:RestoreDBInstanceFromDBSnapshot'],
        resources: [
          rdsPattern('snapshot', '*'),
          rdsPattern('subgrp', props.scratchSubnetGroup.subnetGroupName),
          rdsPattern('og', '*'),
          rdsPattern('pg', '*'),
        ].map((pattern) => patternArn(scope, pattern)),
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TagScratchOnCreate',
        actions: ['rds:AddTagsToResource'],
        resources: [scratch],
        conditions: tagged('RequestTag'),
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WatchScratch',
        actions: ['rds:DescribeDBInstances'],
        resources: [scratch],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DeleteOnlyTaggedScratch',
        actions: ['rds:DeleteDBInstance'],
        resources: [scratch],
        conditions: tagged('ResourceTag'),
      }),
    );
  }

  /**
   * FindApplicationTaskDefinition, RunVerificationTask and StopVerificationTask: read the
   * service's current revision, run only a revision of the verification family in the one
   * cluster, tag and stop only that task, pass only the task definition's roles.
   */
  private grantVerificationTask(scope: Construct, props: VerifyRestoreMachineProps): void {
    const role = this.stateMachine.role;
    const tasks = patternArn(scope, CLUSTER_TASKS);
    const inCluster = { ArnEquals: { 'ecs:cluster': props.cluster.clusterArn } };
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'FindCurrentRevision',
        actions: ['ecs:DescribeServices'],
        resources: [
          Stack.of(scope).formatArn({
            service: 'ecs',
            resource: 'service',
            resourceName: `${props.cluster.clusterName}/${props.serviceName}`,
            arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
          }),
        ],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RunOneOffTask',
        actions: ['ecs:RunTask'],
        // The verification family only: never the production revisions.
        resources: [patternArn(scope, verificationRevisions(props.verificationFamily))],
        conditions: inCluster,
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TagOneOffTask',
        actions: ['ecs:TagResource'],
        resources: [tasks],
        conditions: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'StopOneOffTask',
        actions: ['ecs:StopTask'],
        resources: [tasks],
        conditions: inCluster,
      }),
    );
    role.addToPrincipalPolicy(passTaskRolesStatement(props.taskDefinition, 'PassTaskRoles'));
  }
}

/** Every revision of the verification family. */
function verificationRevisions(family: string): ArnPattern {
  return {
    service: 'ecs',
    resource: 'task-definition',
    resourceName: `${family}:*`,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  };
}
