/**
 * The backup-verification workflow: statemachine/verify-restore.asl.json with its Lambda steps,
 * the scratch instance's network (isolated subnets, a security group only the verifier reaches),
 * a daily EventBridge Scheduler schedule, the scratch sweeper and the alarms.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Arn, ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  VERIFY_METRICS,
  VERIFY_METRICS_DIMENSION,
  VERIFY_METRICS_NAMESPACE,
} from '#commons/metrics.ts';
import { VERIFICATION_FAMILY_SUFFIX } from '#commons/task-definition.ts';
import { acknowledge } from '../nag.ts';
import { ALARM_ON_ANY } from './dashboard.ts';
import type { StepEnvironment, StepName } from './handler-environments.ts';
import { nagResource } from './nag-ids.ts';
import { StepFunction } from './step-function.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Tag that marks scratch instances (also in functions/commons/verify-scratch.ts). */
export const SCRATCH_TAG_KEY = 'stepdeploy:scratch';
/** Metric namespace of the verification metrics (functions/publish-metrics; #commons/metrics.ts). */
export const VERIFY_METRIC_NAMESPACE = VERIFY_METRICS_NAMESPACE;
/**
 * Default schedule: every day at 06:17 UTC, outside the default backup window (03:00-04:00)
 * and maintenance window; config.ts checks a configured one against `dbBackupWindow`.
 */
export const DEFAULT_VERIFY_SCHEDULE = 'cron(17 6 * * ? *)';

/** What the workflow needs from the application and the pipeline. */
export interface VerifyRestoreStateMachineProps {
  /** Name prefix of resources and scratch instances. */
  readonly prefix: string;
  readonly vpc: ec2.IVpc;
  readonly database: rds.IDatabaseInstance;
  /** The RDS-generated secret (username/password) of the database; a restore keeps that login. */
  readonly databaseSecret: secretsmanager.ISecret;
  /** Schema WordPress uses. */
  readonly databaseName: string;
  /** The only security group the scratch instance admits; VerifyData, VerifyApplication and the one-off task carry it. */
  readonly verifierSecurityGroup: ec2.ISecurityGroup;
  readonly cluster: ecs.ICluster;
  readonly serviceName: string;
  readonly taskDefinition: ecs.TaskDefinition;
  readonly containerName: string;
  /** Port the WordPress container listens on (contract default 8080). */
  readonly appPort?: number;
  /**
   * Site URL of the one-off verification task (its WORDPRESS_SITE_URL, and the Host header
   * VerifyApplication sends); never the live site's. Default `http://<prefix>-verify.invalid`
   * (the reserved .invalid TLD never resolves, so no rendered link reaches anything).
   */
  readonly verificationSiteUrl?: string;
  /** Extra groups for the one-off task (e.g. the service's, for EFS and egress). */
  readonly taskSecurityGroups?: readonly ec2.ISecurityGroup[];
  readonly topic: sns.ITopic;
  /** Bucket holding snapshot manifests (`<manifestPrefix><snapshotId>.json`). */
  readonly manifestBucket: s3.IBucket;
  readonly manifestPrefix?: string;
  /** EventBridge Scheduler expression; daily by default. */
  readonly schedule?: string;
  readonly scratchInstanceClass?: string;
  readonly scratchSubnets?: ec2.SubnetSelection;
  /** Subnets of the VPC Lambdas and the one-off task: need a route to ECR, S3 and Secrets Manager. */
  readonly workloadSubnets?: ec2.SubnetSelection;
  readonly restorePollSeconds?: number;
  readonly restoreTimeout?: Duration;
  readonly applicationPollSeconds?: number;
  readonly applicationTimeout?: Duration;
  /** After this the sweeper may delete a scratch instance a dead run left behind. */
  readonly scratchTtl?: Duration;
  /** Alarm when a restore takes longer. */
  readonly rtoThreshold?: Duration;
  readonly rowCountTolerance?: number;
  readonly tablePrefix?: string;
  /** Days to keep the functions' and the state machine's logs (default one and three months). */
  readonly logRetention?: logs.RetentionDays;
  /** `service` dimension of the functions' Powertools metrics (see StepFunction). */
  readonly metricsService?: string;
}

/** The backup-verification state machine and everything around it. */
export class VerifyRestoreStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly scratchSecurityGroup: ec2.SecurityGroup;
  readonly scratchSubnetGroup: rds.SubnetGroup;
  readonly sweeper: StepFunction;
  readonly schedule: scheduler.Schedule;
  readonly alarms: {
    readonly failed: cloudwatch.Alarm;
    readonly noRecentSuccess: cloudwatch.Alarm;
    readonly rtoAboveThreshold: cloudwatch.Alarm;
  };
  /** PublishMetrics' metrics (daily), in the shape OperationsDashboard's `restoreMetrics` takes. */
  readonly metrics: {
    readonly restoreDuration: cloudwatch.IMetric;
    readonly snapshotAge: cloudwatch.IMetric;
    readonly verificationFailed: cloudwatch.IMetric;
  };

  constructor(scope: Construct, id: string, props: VerifyRestoreStateMachineProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const appPort = props.appPort ?? 8080;
    const dbPort = 3306;
    const workloadSubnets = props.workloadSubnets ?? {
      subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS,
    };
    const manifestPrefix = props.manifestPrefix ?? 'manifests/';
    const verificationSiteUrl =
      props.verificationSiteUrl ?? `http://${props.prefix.toLowerCase()}-verify.invalid`;
    const verificationFamily = `${props.taskDefinition.family}${VERIFICATION_FAMILY_SUFFIX}`;
    // Every revision of the verification family.
    const verificationRevisions = Arn.format(
      {
        service: 'ecs',
        resource: 'task-definition',
        resourceName: `${verificationFamily}:*`,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      },
      stack,
    );
    const dbInstanceId = props.database.instanceIdentifier;

    // Only the verifier group may reach a scratch instance, and the scratch reaches nothing.
    this.scratchSecurityGroup = new ec2.SecurityGroup(this, 'ScratchSecurityGroup', {
      vpc: props.vpc,
      allowAllOutbound: false,
      description: 'stepdeploy scratch databases: reachable only from the verifier group',
    });
    this.scratchSecurityGroup.addIngressRule(
      props.verifierSecurityGroup,
      ec2.Port.tcp(dbPort),
      'MySQL from the backup verifier only',
    );
    // VerifyApplication (verifier group) probes the one-off task (verifier group) on the app port.
    props.verifierSecurityGroup.connections.allowFrom(
      props.verifierSecurityGroup,
      ec2.Port.tcp(appPort),
      'backup verifier probes the one-off WordPress task',
    );
    this.scratchSubnetGroup = new rds.SubnetGroup(this, 'ScratchSubnetGroup', {
      vpc: props.vpc,
      vpcSubnets: props.scratchSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      description: 'stepdeploy scratch databases: isolated subnets, no route out',
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // One set of Lambda defaults (StepFunction); VerifyData and VerifyApplication also sit in
    // the VPC with the verifier group, the only group the scratch instance admits.
    const fn = <S extends StepName>(
      name: string,
      dir: S,
      environment: StepEnvironment<S>,
      inVpc: boolean,
    ) =>
      new StepFunction(this, name, {
        step: dir,
        description: `stepdeploy backup verification: ${name}`,
        environment,
        logRetention: props.logRetention,
        metricsService: props.metricsService,
        ...(inVpc
          ? {
              timeout: Duration.minutes(5),
              memorySize: 512,
              vpc: props.vpc,
              vpcSubnets: workloadSubnets,
              securityGroups: [props.verifierSecurityGroup],
            }
          : { timeout: Duration.minutes(1) }),
      });

    const scratchTtl = props.scratchTtl ?? Duration.hours(6);
    const pickSnapshot = fn(
      'PickSnapshot',
      'pick-snapshot',
      {
        DATABASE_INSTANCE_ID: dbInstanceId,
        SCRATCH_PREFIX: props.prefix,
        SCRATCH_TTL_MINUTES: String(scratchTtl.toMinutes()),
      },
      false,
    );
    pickSnapshot.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['rds:DescribeDBSnapshots'],
        resources: [this.rdsArn('db', dbInstanceId), this.rdsArn('snapshot', '*')],
      }),
    );

    const verifyData = fn(
      'VerifyData',
      'verify-data',
      {
        DATABASE_SECRET_ARN: props.databaseSecret.secretArn,
        DATABASE_NAME: props.databaseName,
        LIVE_DATABASE_HOST: props.database.dbInstanceEndpointAddress,
        LIVE_DATABASE_PORT: props.database.dbInstanceEndpointPort,
        MANIFEST_BUCKET: props.manifestBucket.bucketName,
        MANIFEST_PREFIX: manifestPrefix,
        TABLE_PREFIX: props.tablePrefix ?? 'wp_',
        ROW_COUNT_TOLERANCE: String(props.rowCountTolerance ?? 0.1),
      },
      true,
    );
    props.databaseSecret.grantRead(verifyData);
    verifyData.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [props.manifestBucket.arnForObjects(`${manifestPrefix}*`)],
      }),
    );
    // Without ListBucket a missing manifest answers 403 instead of NoSuchKey, and VerifyData
    // could not tell "no manifest" (fall back to the live database) from "no access".
    verifyData.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [props.manifestBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${manifestPrefix}*`] } },
      }),
    );
    // Without a manifest VerifyData compares with the live database, which admits the verifier group.

    const verifyApplication = fn(
      'VerifyApplication',
      'verify-application',
      {
        CLUSTER_ARN: props.cluster.clusterArn,
        APP_PORT: String(appPort),
        SITE_HOST: new URL(verificationSiteUrl).host,
      },
      true,
    );
    verifyApplication.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ecs:DescribeTasks'],
        resources: [this.ecsTaskArn()],
        conditions: { ArnEquals: { 'ecs:cluster': props.cluster.clusterArn } },
      }),
    );

    const publishMetrics = fn(
      'PublishMetrics',
      'publish-metrics',
      { METRIC_NAMESPACE: VERIFY_METRIC_NAMESPACE, DATABASE_INSTANCE_ID: dbInstanceId },
      false,
    );
    publishMetrics.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'], // PutMetricData has no resource type; the namespace condition scopes it
        conditions: { StringEquals: { 'cloudwatch:namespace': VERIFY_METRIC_NAMESPACE } },
      }),
    );

    // The verification's own revision of the current one: no live uploads, the scratch URL.
    const registerVerification = fn(
      'RegisterVerificationTaskDefinition',
      'register-verification-task-definition',
      {},
      false,
    );
    registerVerification.addToRolePolicy(
      new iam.PolicyStatement({
        // DescribeTaskDefinition and RegisterTaskDefinition accept no resource ARN.
        actions: ['ecs:DescribeTaskDefinition', 'ecs:RegisterTaskDefinition'],
        resources: ['*'],
      }),
    );
    registerVerification.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [props.taskDefinition.taskRole, props.taskDefinition.executionRole]
          .filter((r): r is iam.IRole => r !== undefined)
          .map((r) => r.roleArn),
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    );

    this.sweeper = fn('SweepScratchInstances', 'sweep-scratch-instances', {}, false);
    this.sweeper.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['rds:DescribeDBInstances'],
        resources: [this.rdsArn('db', '*')],
      }),
    );
    this.sweeper.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['rds:DeleteDBInstance'],
        resources: [this.rdsArn('db', `${props.prefix.toLowerCase()}*-scratch-*`)],
        conditions: { StringEquals: { [`aws:ResourceTag/${SCRATCH_TAG_KEY}`]: 'true' } },
      }),
    );

    const restorePoll = props.restorePollSeconds ?? 30;
    const appPoll = props.applicationPollSeconds ?? 15;
    const polls = (timeout: Duration, every: number) =>
      String(Math.max(1, Math.ceil(timeout.toSeconds() / every)));
    const taskGroups = [props.verifierSecurityGroup, ...(props.taskSecurityGroups ?? [])];
    const substitutions: Record<string, string> = {
      RestorePollSeconds: String(restorePoll),
      RestoreMaxPolls: polls(props.restoreTimeout ?? Duration.hours(1), restorePoll),
      ApplicationPollSeconds: String(appPoll),
      ApplicationMaxPolls: polls(props.applicationTimeout ?? Duration.minutes(10), appPoll),
      PickSnapshotFunctionArn: pickSnapshot.functionArn,
      VerifyDataFunctionArn: verifyData.functionArn,
      VerifyApplicationFunctionArn: verifyApplication.functionArn,
      PublishMetricsFunctionArn: publishMetrics.functionArn,
      RegisterVerificationTaskDefinitionFunctionArn: registerVerification.functionArn,
      VerificationSiteUrl: verificationSiteUrl,
      ScratchInstanceClass: props.scratchInstanceClass ?? 'db.t4g.micro',
      ScratchSubnetGroupName: this.scratchSubnetGroup.subnetGroupName,
      ScratchSecurityGroupId: this.scratchSecurityGroup.securityGroupId,
      ClusterArn: props.cluster.clusterArn,
      ServiceName: props.serviceName,
      ContainerName: props.containerName,
      // The ASL splits this on commas (States.StringSplit).
      VerifierSubnetIds: props.vpc.selectSubnets(workloadSubnets).subnetIds.join(','),
      VerificationTaskSecurityGroupIds: taskGroups.map((g) => g.securityGroupId).join(','),
      TopicArn: props.topic.topicArn,
    };
    const text = readFileSync(join(root, 'statemachine', 'verify-restore.asl.json'), 'utf8');
    const wanted = new Set([...text.matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map((m) => m[1] as string));
    const missing = [...wanted].filter((name) => !(name in substitutions));
    const extra = Object.keys(substitutions).filter((name) => !wanted.has(name));
    if (missing.length > 0 || extra.length > 0) {
      throw new Error(
        `verify-restore.asl.json substitutions out of step: missing ${missing.join(', ') || 'none'}, unused ${extra.join(', ') || 'none'}`,
      );
    }

    const logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: `${props.prefix}-verify-restore`,
      definitionBody: sfn.DefinitionBody.fromString(text),
      definitionSubstitutions: substitutions,
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    const role = this.stateMachine.role;
    // The steps the machine invokes (the sweeper runs on its own schedule).
    const invoked = [
      pickSnapshot,
      verifyData,
      verifyApplication,
      publishMetrics,
      registerVerification,
    ];
    for (const f of invoked) {
      f.grantInvoke(role);
    }
    props.topic.grantPublish(role);
    const scratchDb = this.rdsArn('db', `${props.prefix.toLowerCase()}*-scratch-*`);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RestoreOnlyTaggedScratch',
        actions: ['rds:RestoreDBInstanceFromDBSnapshot'],
        resources: [scratchDb],
        conditions: { StringEquals: { [`aws:RequestTag/${SCRATCH_TAG_KEY}`]: 'true' } },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RestoreFromThisDatabasesSnapshots',
        actions: ['rds:RestoreDBInstanceFromDBSnapshot'],
        resources: [
          this.rdsArn('snapshot', '*'),
          this.rdsArn('subgrp', this.scratchSubnetGroup.subnetGroupName),
          this.rdsArn('og', '*'),
          this.rdsArn('pg', '*'),
        ],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TagScratchOnCreate',
        actions: ['rds:AddTagsToResource'],
        resources: [scratchDb],
        conditions: { StringEquals: { [`aws:RequestTag/${SCRATCH_TAG_KEY}`]: 'true' } },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WatchScratch',
        actions: ['rds:DescribeDBInstances'],
        resources: [scratchDb],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DeleteOnlyTaggedScratch',
        actions: ['rds:DeleteDBInstance'],
        resources: [scratchDb],
        conditions: { StringEquals: { [`aws:ResourceTag/${SCRATCH_TAG_KEY}`]: 'true' } },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'FindCurrentRevision',
        actions: ['ecs:DescribeServices'],
        resources: [
          Arn.format(
            {
              service: 'ecs',
              resource: 'service',
              resourceName: `${props.cluster.clusterName}/${props.serviceName}`,
              arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
            },
            stack,
          ),
        ],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RunOneOffTask',
        actions: ['ecs:RunTask'],
        // The verification family only: never the production revisions.
        resources: [verificationRevisions],
        conditions: { ArnEquals: { 'ecs:cluster': props.cluster.clusterArn } },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TagOneOffTask',
        actions: ['ecs:TagResource'],
        resources: [this.ecsTaskArn()],
        conditions: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'StopOneOffTask',
        actions: ['ecs:StopTask'],
        resources: [this.ecsTaskArn()],
        conditions: { ArnEquals: { 'ecs:cluster': props.cluster.clusterArn } },
      }),
    );
    const passRoles = [props.taskDefinition.taskRole, props.taskDefinition.executionRole].filter(
      (r): r is iam.IRole => r !== undefined,
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PassTaskRoles',
        actions: ['iam:PassRole'],
        resources: passRoles.map((r) => r.roleArn),
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    );

    // Schedules: the verification daily (configurable), the sweeper hourly.
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'stepdeploy: verify the latest automated snapshot restores and boots',
      schedule: scheduler.ScheduleExpression.expression(props.schedule ?? DEFAULT_VERIFY_SCHEDULE),
      target: new targets.StepFunctionsStartExecution(this.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject({}),
        retryAttempts: 2,
      }),
    });
    // Its own role, trusted only from this account; the target grants it invoke on the sweeper.
    const sweeperScheduleRole = new iam.Role(this, 'SweeperScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    });
    new scheduler.Schedule(this, 'SweeperSchedule', {
      description: 'stepdeploy: delete scratch databases whose expiry tag has passed',
      schedule: scheduler.ScheduleExpression.rate(Duration.hours(1)),
      target: new targets.LambdaInvoke(this.sweeper, {
        retryAttempts: 2,
        role: sweeperScheduleRole,
      }),
    });

    // Alarms, all to the pipeline topic.
    const metric = (name: string, statistic: string, period: Duration) =>
      new cloudwatch.Metric({
        namespace: VERIFY_METRIC_NAMESPACE,
        metricName: name,
        dimensionsMap: { [VERIFY_METRICS_DIMENSION]: dbInstanceId },
        statistic,
        period,
      });
    const failed = new cloudwatch.Alarm(this, 'VerificationFailedAlarm', {
      alarmDescription: 'A backup verification failed: the notification names the failed check.',
      metric: metric(VERIFY_METRICS.failed, 'Maximum', Duration.hours(1)),
      ...ALARM_ON_ANY,
    });
    // 26 hourly periods with no success (missing data counts): a daily run was missed or failed.
    // Missing data may breach here because PublishMetrics does publish this metric, every run.
    const noRecentSuccess = new cloudwatch.Alarm(this, 'NoRecentSuccessAlarm', {
      alarmDescription: 'No successful backup verification in the last 26 hours.',
      metric: metric(VERIFY_METRICS.succeeded, 'Maximum', Duration.hours(1)),
      threshold: 1,
      evaluationPeriods: 26,
      datapointsToAlarm: 26,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    const rtoAboveThreshold = new cloudwatch.Alarm(this, 'RtoAboveThresholdAlarm', {
      alarmDescription: 'A restore took longer than the recovery-time objective.',
      metric: metric(VERIFY_METRICS.rto, 'Maximum', Duration.hours(1)),
      threshold: (props.rtoThreshold ?? Duration.minutes(45)).toSeconds(),
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    for (const alarm of [failed, noRecentSuccess, rtoAboveThreshold]) {
      alarm.addAlarmAction(new cwActions.SnsAction(props.topic));
    }
    this.alarms = { failed, noRecentSuccess, rtoAboveThreshold };
    const day = Duration.days(1);
    this.metrics = {
      restoreDuration: metric(VERIFY_METRICS.rto, 'Maximum', day).with({
        label: 'Restore time (RTO)',
      }),
      snapshotAge: metric(VERIFY_METRICS.rpo, 'Maximum', day).with({
        label: 'Snapshot age (RPO)',
      }),
      verificationFailed: metric(VERIFY_METRICS.failed, 'Sum', day).with({
        label: 'Verifications failed',
      }),
    };

    // cdk-nag findings name each wildcard resource, so each is acknowledged by its rendered name.
    const wildcard = (value: string) => `AwsSolutions-IAM5[${nagResource(this, value)}]`;
    const scoped =
      'Scoped wildcard: X-Ray and PutMetricData have no resource type (PutMetricData is namespace-conditioned); ' +
      "snapshot:* is read-only discovery of this database's snapshots; manifests are read under their prefix only; " +
      'the sweeper must list every instance to find expired scratch ones and can delete only scratch-tagged ones.';
    const functionFindings: Record<string, string> = {
      // The managed-policy, runtime and X-Ray findings are acknowledged by StepFunction itself.
      'AwsSolutions-IAM5[Resource::*]': scoped,
      [wildcard(this.rdsArn('snapshot', '*'))]: scoped,
      [wildcard(this.rdsArn('db', '*'))]: scoped,
      [wildcard(scratchDb)]: scoped,
      [wildcard(this.ecsTaskArn())]: 'Tasks of the one cluster, conditioned on ecs:cluster.',
      [wildcard(props.manifestBucket.arnForObjects(`${manifestPrefix}*`))]: scoped,
    };
    for (const f of [pickSnapshot, verifyData, verifyApplication, publishMetrics, this.sweeper]) {
      acknowledge(f, functionFindings);
    }
    acknowledge(registerVerification, {
      'AwsSolutions-IAM5[Resource::*]':
        'X-Ray tracing, ecs:DescribeTaskDefinition and ecs:RegisterTaskDefinition accept no resource ARN; it passes only the task definition roles, only to ECS tasks.',
    });
    const machineFindings: Record<string, string> = {
      'AwsSolutions-IAM5[Resource::*]': 'X-Ray tracing has no resource type.',
      [wildcard(scratchDb)]:
        'Scratch instances only (name pattern), restore and delete further conditioned on the scratch tag.',
      'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]':
        "Publishing to a KMS-encrypted topic needs GenerateDataKey* on that topic's one key (grantPublish).",
      [wildcard(this.rdsArn('snapshot', '*'))]: 'A restore reads the snapshot it is given.',
      [wildcard(this.rdsArn('og', '*'))]: 'A restore reads the option group the snapshot names.',
      [wildcard(this.rdsArn('pg', '*'))]: 'A restore reads the parameter group the snapshot names.',
      [wildcard(this.ecsTaskArn())]:
        'The one-off verification task of this cluster (conditioned on ecs:cluster / RunTask).',
      [wildcard(verificationRevisions)]:
        'Any revision of the verification family: RegisterVerificationTaskDefinition registers it from the current revision at run time.',
    };
    for (const f of invoked) {
      machineFindings[wildcard(`${f.functionArn}:*`)] =
        'grantInvoke covers the function versions of a step this machine calls.';
    }
    acknowledge(this.stateMachine, machineFindings);
    acknowledge(sweeperScheduleRole, {
      [wildcard(`${this.sweeper.functionArn}:*`)]:
        'The scheduler target grants invoke on the sweeper and its versions, nothing else.',
    });
  }

  /**
   * Lets a parent state machine (the release) run this one as a nested execution:
   * `arn:aws:states:::states:startExecution.sync:2` with `{ "snapshotId": <pre-deploy snapshot> }`.
   */
  grantNestedExecution(parentRole: iam.IGrantable): void {
    this.stateMachine.grantStartExecution(parentRole);
    const stack = Stack.of(this);
    const executions = Arn.format(
      {
        service: 'states',
        resource: 'execution',
        resourceName: `${this.stateMachine.stateMachineName}:*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      },
      stack,
    );
    iam.Grant.addToPrincipal({
      grantee: parentRole,
      actions: ['states:DescribeExecution', 'states:StopExecution'],
      resourceArns: [executions],
    });
    // .sync waits through an EventBridge managed rule.
    iam.Grant.addToPrincipal({
      grantee: parentRole,
      actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
      resourceArns: [
        Arn.format(
          {
            service: 'events',
            resource: 'rule',
            resourceName: 'StepFunctionsGetEventsForStepFunctionsExecutionRule',
          },
          stack,
        ),
      ],
    });
  }

  private rdsArn(resource: string, name: string): string {
    return Arn.format(
      { service: 'rds', resource, resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME },
      Stack.of(this),
    );
  }

  /**
   * Tasks by `task/*`, never `task/<cluster name>/*`: the cluster lives in the application
   * stack, and a cross-stack name inside a wildcard ARN cannot be named in a cdk-nag
   * acknowledgement before synthesis. Every statement on it is pinned to the cluster by the
   * ecs:cluster condition, or (tagging) to tasks this role's RunTask creates.
   */
  private ecsTaskArn(): string {
    return Arn.format(
      {
        service: 'ecs',
        resource: 'task',
        resourceName: '*',
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      },
      Stack.of(this),
    );
  }
}
