/**
 * The backup-verification workflow, put together from its parts in verify-restore/: the
 * restore (ScratchRestore: PickSnapshot, the scratch instance's isolated subnets and a security
 * group only the verifier reaches), the checks (RestoreVerification: VerifyData,
 * RegisterVerificationTaskDefinition, VerifyApplication, PublishMetrics), the cleanup
 * (ScratchCleanup: the hourly sweeper), the state machine (VerifyRestoreMachine:
 * statemachine/verify-restore.asl.json with every placeholder filled), its daily schedule and
 * the alarms (VerificationAlarms).
 */
import { Arn, ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { VERIFICATION_FAMILY_SUFFIX } from '#commons/task-definition.ts';
import type { StepFunction } from './step-function.ts';
import { VerificationAlarms } from './verify-restore/alarms.ts';
import { ScratchCleanup } from './verify-restore/cleanup.ts';
import { VerifyRestoreMachine } from './verify-restore/machine.ts';
import { ScratchRestore } from './verify-restore/restore.ts';
import { RestoreVerification } from './verify-restore/verify.ts';

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

/**
 * The backup-verification state machine and everything around it. Its parts create their
 * resources in this construct under the ids they had when it was one file (see ScratchRestore).
 */
export class VerifyRestoreStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly scratchSecurityGroup: ec2.SecurityGroup;
  readonly scratchSubnetGroup: rds.SubnetGroup;
  readonly sweeper: StepFunction<'sweep-scratch-instances'>;
  readonly schedule: scheduler.Schedule;
  readonly alarms: VerificationAlarms['alarms'];
  /** PublishMetrics' metrics (daily), in the shape OperationsDashboard's `restoreMetrics` takes. */
  readonly metrics: VerificationAlarms['metrics'];

  constructor(scope: Construct, id: string, props: VerifyRestoreStateMachineProps) {
    super(scope, id);
    const settings = { logRetention: props.logRetention, metricsService: props.metricsService };
    const workloadSubnets = props.workloadSubnets ?? {
      subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS,
    };
    const verificationSiteUrl =
      props.verificationSiteUrl ?? `http://${props.prefix.toLowerCase()}-verify.invalid`;
    const verificationFamily = `${props.taskDefinition.family}${VERIFICATION_FAMILY_SUFFIX}`;

    const restore = new ScratchRestore(this, {
      ...settings,
      prefix: props.prefix,
      vpc: props.vpc,
      database: props.database,
      verifierSecurityGroup: props.verifierSecurityGroup,
      scratchSubnets: props.scratchSubnets,
      scratchTtl: props.scratchTtl,
    });
    this.scratchSecurityGroup = restore.securityGroup;
    this.scratchSubnetGroup = restore.subnetGroup;
    const verify = new RestoreVerification(this, {
      ...settings,
      verifier: {
        vpc: props.vpc,
        subnets: workloadSubnets,
        securityGroup: props.verifierSecurityGroup,
      },
      database: props.database,
      databaseSecret: props.databaseSecret,
      databaseName: props.databaseName,
      tablePrefix: props.tablePrefix ?? 'wp_',
      rowCountTolerance: props.rowCountTolerance ?? 0.1,
      manifestBucket: props.manifestBucket,
      manifestPrefix: props.manifestPrefix ?? 'manifests/',
      cluster: props.cluster,
      taskDefinition: props.taskDefinition,
      verificationFamily,
      appPort: props.appPort ?? 8080,
      verificationSiteUrl,
    });
    const cleanup = new ScratchCleanup(this, { ...settings, prefix: props.prefix });
    this.sweeper = cleanup.sweeper;

    this.stateMachine = new VerifyRestoreMachine(this, {
      stateMachineName: `${props.prefix}-verify-restore`,
      logRetention: props.logRetention,
      // The steps the machine invokes (the sweeper runs on its own schedule).
      functions: {
        pickSnapshot: restore.pickSnapshot,
        verifyData: verify.verifyData,
        verifyApplication: verify.verifyApplication,
        publishMetrics: verify.publishMetrics,
        registerVerificationTaskDefinition: verify.registerVerificationTaskDefinition,
      },
      scratchPrefix: props.prefix,
      scratchInstanceClass: props.scratchInstanceClass ?? 'db.t4g.micro',
      scratchSubnetGroup: restore.subnetGroup,
      scratchSecurityGroup: restore.securityGroup,
      restorePoll: {
        everySeconds: props.restorePollSeconds ?? 30,
        timeout: props.restoreTimeout ?? Duration.hours(1),
      },
      applicationPoll: {
        everySeconds: props.applicationPollSeconds ?? 15,
        timeout: props.applicationTimeout ?? Duration.minutes(10),
      },
      cluster: props.cluster,
      serviceName: props.serviceName,
      containerName: props.containerName,
      taskDefinition: props.taskDefinition,
      verificationFamily,
      verificationSiteUrl,
      verifierSubnetIds: props.vpc.selectSubnets(workloadSubnets).subnetIds,
      taskSecurityGroups: [props.verifierSecurityGroup, ...(props.taskSecurityGroups ?? [])],
      topic: props.topic,
    }).stateMachine;

    // The verification daily (configurable); the sweeper runs hourly (ScratchCleanup).
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'stepdeploy: verify the latest automated snapshot restores and boots',
      schedule: scheduler.ScheduleExpression.expression(props.schedule ?? DEFAULT_VERIFY_SCHEDULE),
      target: new targets.StepFunctionsStartExecution(this.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject({}),
        retryAttempts: 2,
      }),
    });
    const alarms = new VerificationAlarms(this, {
      databaseInstanceId: props.database.instanceIdentifier,
      topic: props.topic,
      rtoThreshold: props.rtoThreshold,
    });
    this.alarms = alarms.alarms;
    this.metrics = alarms.metrics;
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
}
