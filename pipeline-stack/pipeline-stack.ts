import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CfnOutput,
  Duration,
  IgnoreMode,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import {
  BuildSpec,
  ComputeType,
  LinuxBuildImage,
  Project,
  Source,
} from 'aws-cdk-lib/aws-codebuild';
import { type IRepository, Repository as SourceRepository } from 'aws-cdk-lib/aws-codecommit';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { SubnetType } from 'aws-cdk-lib/aws-ec2';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { parse as parseYaml } from 'yaml';
import { SMOKE_MAX_ATTEMPTS, smokeTestBudgetMs } from '#commons/smoke.ts';
import { DEFAULT_TABLE_PREFIX } from '#commons/wordpress-schema.ts';
import {
  type ApplicationStack,
  CONTAINER_PORT,
  HEALTH_CHECK_PATH,
  UNHEALTHY_THRESHOLD,
} from './application-stack.ts';
import type { AppConfig } from './config.ts';
import { FreeAbandonedLocks } from './constructs/abandoned-lock.ts';
import { OperationsDashboard } from './constructs/dashboard.ts';
import type { StepName } from './constructs/handler-environments.ts';
import { nagArn, nagRef } from './constructs/nag-ids.ts';
import { ReleaseNotifications } from './constructs/notifications.ts';
import { ReleaseStateMachine } from './constructs/release-state-machine.ts';
import { StepFunction } from './constructs/step-function.ts';
import { ReleaseTriggers } from './constructs/triggers.ts';
import { VerifyRestoreStateMachine } from './constructs/verify-restore-state-machine.ts';

/** The repository root: the build definition is packaged from it. */
const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** What the build definition asset holds: everything the buildspec runs, nothing else. */
export const BUILD_DEFINITION_PATHS = ['buildspec', 'packer', 'ansible'] as const;
/** The CodeBuild source identifier of the build definition (`$CODEBUILD_SRC_DIR_build`). */
export const BUILD_DEFINITION_SOURCE = 'build';

/** What the pipeline needs from the application: ApplicationStack's public fields. */
export type PipelineApplication = Pick<
  ApplicationStack,
  | 'vpc'
  | 'cluster'
  | 'service'
  | 'taskDefinition'
  | 'containerName'
  | 'desiredCount'
  | 'targetGroup'
  | 'loadBalancer'
  | 'siteUrl'
  | 'siteHost'
  | 'repository'
  | 'database'
  | 'databaseSecret'
  | 'verifierSecurityGroup'
  | 'serviceSecurityGroup'
>;

/** Properties of the pipeline stack. */
export interface PipelineStackProps extends StackProps {
  readonly config: AppConfig;
  readonly application: PipelineApplication;
  /**
   * How long a release lock lives if its holder never releases it (default 2 hours, 4 hours
   * when releases run the nested backup verification, whose restore alone can take an hour).
   */
  readonly lockLeaseSeconds?: number;
}

/** The ledger's sparse index of releases that proved a revision healthy. */
export const LEDGER_GOOD_INDEX = 'byGoodAt';

/** Key prefix of snapshot manifests (RecordSnapshotManifest writes, VerifyData and CompareSchema read). */
export const MANIFEST_PREFIX = 'manifests/';

/**
 * WordPress's table prefix: the application's task definition sets no WORDPRESS_TABLE_PREFIX,
 * so the image's default. Where db_version is read (`<prefix>options`).
 */
export const TABLE_PREFIX = DEFAULT_TABLE_PREFIX;

/**
 * The release pipeline: the source (one CodeCommit repository, one versioned bucket), the
 * image build project, the release ledger and lock tables, the notification topic, the Lambda
 * steps, the release and restore-verification state machines, the triggers that start
 * releases, the notifications that announce them and the operations dashboard.
 */
export class PipelineStack extends Stack {
  readonly ledgerTable: Table;
  readonly lockTable: Table;
  readonly topic: Topic;
  readonly buildProject: Project;
  readonly sourceRepository: IRepository;
  readonly sourceBucket: Bucket;
  readonly manifestBucket: Bucket;
  readonly release: ReleaseStateMachine;
  readonly verifyRestore: VerifyRestoreStateMachine;
  readonly triggers: ReleaseTriggers;
  readonly notifications: ReleaseNotifications;
  readonly operations: OperationsDashboard;
  readonly releaseStateMachineName: string;
  readonly snapshotPrefix: string;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { config, application: app } = props;
    const lease = props.lockLeaseSeconds ?? (config.releaseVerifyBackup === 'off' ? 7200 : 14400);
    // CloudWatch retention enum values are the day counts config.ts already validated.
    const retention = config.logRetentionDays as RetentionDays;
    this.releaseStateMachineName = `${config.prefix}-release`;
    this.snapshotPrefix = `${config.prefix}-release`;

    this.ledgerTable = new Table(this, 'Ledger', {
      partitionKey: { name: 'service', type: AttributeType.STRING },
      sortKey: { name: 'releaseId', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.ledgerTable.addGlobalSecondaryIndex({
      indexName: LEDGER_GOOD_INDEX,
      partitionKey: { name: 'service', type: AttributeType.STRING },
      sortKey: { name: 'goodAt', type: AttributeType.STRING },
    });
    this.lockTable = new Table(this, 'Lock', {
      partitionKey: { name: 'service', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expiresAt',
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const topicKey = new Key(this, 'TopicKey', {
      description: 'stepdeploy release notifications',
      enableKeyRotation: true,
    });
    // CloudWatch alarms publish to the topic as the CloudWatch service, which needs the key.
    topicKey.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    this.topic = new Topic(this, 'Notifications', {
      displayName: 'stepdeploy releases',
      masterKey: topicKey,
      enforceSSL: true,
    });

    // The one repository: CodeBuild builds from it and its pushes start releases.
    this.sourceRepository =
      config.sourceRepositoryName !== undefined
        ? SourceRepository.fromRepositoryName(this, 'Source', config.sourceRepositoryName)
        : new SourceRepository(this, 'Source', {
            repositoryName: `${config.prefix}-source`,
            description:
              "stepdeploy site source: the site's own code (themes/, plugins/, mu-plugins/, site.yml)",
          });
    const accessLogs = new Bucket(this, 'SourceAccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(90) }],
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket receives the source bucket access logs; logging it would recurse.',
    });
    // The one source bucket: CodeBuild builds from an exact object version in it, and uploads
    // under the release prefix start releases (ReleaseTriggers turns on its EventBridge events).
    this.sourceBucket = new Bucket(this, 'SourceUploads', {
      versioned: true,
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'source-uploads/',
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(365) }],
    });
    // Row counts and checksums recorded when a snapshot was taken, read by VerifyData.
    this.manifestBucket = new Bucket(this, 'SnapshotManifests', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'snapshot-manifests/',
    });

    const buildKey = new Key(this, 'BuildKey', {
      description: 'stepdeploy image build artifacts and logs',
      enableKeyRotation: true,
    });
    const buildLogs = new LogGroup(this, 'BuildLogs', {
      retention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // The build definition (Packer template, Ansible role, buildspec) ships with this stack and
    // is versioned with it; the site's repository (or uploaded zip) holds only the site's code.
    // CodeBuild gets both: the site as the primary source, the definition as source `build`.
    const buildDefinition = new Asset(this, 'BuildDefinition', {
      path: PROJECT_ROOT,
      ignoreMode: IgnoreMode.GIT,
      exclude: ['/*', ...BUILD_DEFINITION_PATHS.map((path) => `!/${path}/`)],
    });
    this.buildProject = new Project(this, 'ImageBuild', {
      description: 'Packer (Docker builder + Ansible) build of the WordPress image, pushed to ECR',
      source: Source.codeCommit({ repository: this.sourceRepository }),
      secondarySources: [
        Source.s3({
          bucket: buildDefinition.bucket,
          path: buildDefinition.s3ObjectKey,
          identifier: BUILD_DEFINITION_SOURCE,
        }),
      ],
      // Inline, so `cdk diff` shows a buildspec change; the file stays the one source.
      buildSpec: BuildSpec.fromObjectToYaml(
        parseYaml(readFileSync(join(PROJECT_ROOT, 'buildspec', 'buildspec.yml'), 'utf8')),
      ),
      environment: {
        buildImage: LinuxBuildImage.STANDARD_7_0,
        computeType: ComputeType.SMALL,
        privileged: true,
      },
      // The buildspec's required variables (its header lists them); the release machine adds
      // RELEASE_ID and SOURCE_REVISION per build (test/cdk/buildspec-environment.test.ts).
      environmentVariables: {
        IMAGE_REPOSITORY_URI: { value: app.repository.repositoryUri },
      },
      encryptionKey: buildKey,
      timeout: Duration.minutes(30),
      logging: { cloudWatch: { logGroup: buildLogs } },
    });
    app.repository.grantPullPush(this.buildProject);
    // Source.s3 grants read on the definition's one object (and its bucket's listing) only.
    this.sourceBucket.grantRead(this.buildProject);
    const build = (id: string, reason: string) =>
      Validations.of(this.buildProject).acknowledge({ id, reason });
    build(
      'AwsSolutions-CB3',
      "Packer's Docker builder runs docker build/push inside the build: it needs the Docker daemon.",
    );
    build(
      'AwsSolutions-IAM5[Resource::*]',
      'ecr:GetAuthorizationToken accepts no resource ARN; pushes are scoped to the one repository.',
    );
    build(
      'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      "Encrypts build artifacts and logs with the project's own key (CodeBuild grant).",
    );
    build(
      'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
      "Encrypts build artifacts and logs with the project's own key (CodeBuild grant).",
    );
    build(
      'AwsSolutions-IAM5[Action::s3:GetBucket*]',
      'Reads uploaded source zips from the one source bucket (grantRead).',
    );
    build(
      'AwsSolutions-IAM5[Action::s3:GetObject*]',
      'Reads uploaded source zips (any version) from the one source bucket (grantRead).',
    );
    build(
      'AwsSolutions-IAM5[Action::s3:List*]',
      'Lists the one source bucket to read uploaded source zips (grantRead).',
    );
    build(
      `AwsSolutions-IAM5[Resource::${nagRef(this.sourceBucket, 'Arn')}/*]`,
      'Source zips are uploaded under keys chosen by people and triggers.',
    );
    build(
      `AwsSolutions-IAM5[Resource::${nagArn(this, 'codebuild', `report-group/${nagRef(this.buildProject)}-*`)}]`,
      "CodeBuild's default grant for the project's own test report groups.",
    );
    build(
      `AwsSolutions-IAM5[Resource::${nagArn(this, 'logs', `log-group:/aws/codebuild/${nagRef(this.buildProject)}:*`)}]`,
      "CodeBuild's default grant for the project's own log streams.",
    );
    Validations.of(this).acknowledge({
      id: '@aws-cdk/core:crossStackReferencesDefaultStrong',
      reason:
        'Strong references are intended: the application stack must not drop what the pipeline uses.',
    });

    const metricsService = config.prefix;
    const step = <S extends StepName>(
      id: string,
      folder: S,
      description: string,
      timeout?: Duration,
    ) =>
      new StepFunction(this, id, {
        step: folder,
        description,
        timeout,
        logRetention: retention,
        metricsService,
      });
    const validateInput = step('ValidateInput', 'validate-input', 'Refuse malformed release input');
    const acquireLock = step('AcquireLock', 'acquire-lock', 'Take the per-service release lock')
      .bindLockTable(this.lockTable)
      .bindLockLease(lease);
    const readBuildOutput = step(
      'ReadBuildOutput',
      'read-build-output',
      'Read the image digest the build exported',
    );
    const releaseLock = step(
      'ReleaseLock',
      'release-lock',
      'Free the release lock this release holds and stop a trial task it left',
    )
      .bindLockTable(this.lockTable)
      .bindTaskStopper(app.cluster);
    const registerTaskDefinition = step(
      'RegisterTaskDefinition',
      'register-task-definition',
      'Clone the running task definition with the new image digest',
    )
      .bindService(app.cluster, app.service, { update: false })
      .bindTaskDefinitionFamily(app.taskDefinition);
    const deployService = step(
      'DeployService',
      'deploy-service',
      'UpdateService to a revision',
    ).bindService(app.cluster, app.service, { update: true });
    const checkHealth = step('CheckHealth', 'check-health', 'One poll of the health gate')
      .bindService(app.cluster, app.service, { update: false })
      .bindTargetGroup(app.targetGroup);
    // The longest smoke test a release may ask for, plus cold start and slack: a failing smoke
    // test must end as SmokeTestError with its reason, not as a Lambda timeout.
    const smokeTest = step(
      'SmokeTest',
      'smoke-test',
      'HTTP checks through the load balancer',
      Duration.seconds(Math.ceil(smokeTestBudgetMs(SMOKE_MAX_ATTEMPTS) / 1000) + 30),
    );
    const checkInstalled = step(
      'CheckInstalled',
      'check-installed',
      'Ask /readyz through the load balancer whether WordPress is installed',
    );
    const findLastKnownGood = step(
      'FindLastKnownGood',
      'find-last-known-good',
      'Pick the rollback target from the ledger',
    ).bindLedgerReader(this.ledgerTable, LEDGER_GOOD_INDEX);
    const recordRelease = step('RecordRelease', 'record-release', 'Write the release ledger record')
      .bindLedgerWriter(this.ledgerTable)
      .bindExecutionHistory(this.releaseStateMachineName);
    const pruneSnapshots = step(
      'PruneSnapshots',
      'prune-snapshots',
      'Delete release snapshots beyond the retention after a success',
      Duration.minutes(2),
    )
      .bindLedgerReader(this.ledgerTable, LEDGER_GOOD_INDEX)
      .bindReleaseSnapshots(app.database, this.snapshotPrefix, app.service.serviceName);

    this.verifyRestore = new VerifyRestoreStateMachine(this, 'VerifyRestore', {
      prefix: config.prefix,
      vpc: app.vpc,
      database: app.database,
      databaseSecret: app.databaseSecret,
      databaseName: config.dbName,
      verifierSecurityGroup: app.verifierSecurityGroup,
      // The service's group gives the one-off task the service's egress (its own task
      // definition mounts no EFS uploads).
      taskSecurityGroups: [app.serviceSecurityGroup],
      cluster: app.cluster,
      serviceName: app.service.serviceName,
      taskDefinition: app.taskDefinition,
      containerName: app.containerName,
      appPort: CONTAINER_PORT,
      topic: this.topic,
      manifestBucket: this.manifestBucket,
      manifestPrefix: MANIFEST_PREFIX,
      tablePrefix: TABLE_PREFIX,
      schedule: config.verifySchedule,
      rtoThreshold: Duration.minutes(config.restoreRtoMinutes),
      logRetention: retention,
      metricsService,
    });

    // In the VPC with the verifier group, the group the database admits besides the service.
    const liveDatabaseStep = <S extends 'record-snapshot-manifest' | 'compare-schema'>(
      id: string,
      folder: S,
      description: string,
    ) =>
      new StepFunction(this, id, {
        step: folder,
        description,
        timeout: Duration.minutes(5),
        memorySize: 512,
        logRetention: retention,
        metricsService,
        vpc: app.vpc,
        vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
        securityGroups: [app.verifierSecurityGroup],
      }).bindLiveDatabase(app.database, app.databaseSecret, config.dbName, TABLE_PREFIX);
    const recordSnapshotManifest = liveDatabaseStep(
      'RecordSnapshotManifest',
      'record-snapshot-manifest',
      'Record row counts, checksums and the schema of the live database before its snapshot',
    );
    recordSnapshotManifest.addEnvironment('MANIFEST_BUCKET', this.manifestBucket.bucketName);
    recordSnapshotManifest.addEnvironment('MANIFEST_PREFIX', MANIFEST_PREFIX);
    recordSnapshotManifest.addToRolePolicy(
      new PolicyStatement({
        // Get: a retry keeps the manifest already recorded; Put is conditional (If-None-Match).
        actions: ['s3:PutObject', 's3:GetObject'],
        resources: [this.manifestBucket.arnForObjects(`${MANIFEST_PREFIX}*`)],
      }),
    );
    // Without ListBucket, S3 answers a missing manifest with 403 instead of 404 NoSuchKey.
    recordSnapshotManifest.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.manifestBucket.bucketArn],
      }),
    );
    Validations.of(recordSnapshotManifest).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagRef(this.manifestBucket, 'Arn')}/${MANIFEST_PREFIX}*]`,
      reason:
        'Writes and reads snapshot manifests only, under their prefix; keys carry the snapshot id.',
    });

    // Reads the schema the release left and the manifest of its snapshot; writes nothing.
    const compareSchema = liveDatabaseStep(
      'CompareSchema',
      'compare-schema',
      'Compare the schema a release left with the one its pre-release snapshot recorded',
    ).bindManifestReader(this.manifestBucket, MANIFEST_PREFIX);

    // Asks the trial task of a new revision directly, before it takes traffic: in the VPC with
    // the verifier group, which the service's group admits on the container port.
    const checkTrial = new StepFunction(this, 'CheckTrial', {
      step: 'check-trial',
      description:
        'One poll of the trial task of a new revision, asked directly before any traffic',
      logRetention: retention,
      metricsService,
      vpc: app.vpc,
      vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [app.verifierSecurityGroup],
      environment: {
        APP_PORT: String(CONTAINER_PORT),
        SITE_HOST: app.siteHost,
        HEALTH_CHECK_PATH,
      },
    }).bindTaskReader(app.cluster);

    this.release = new ReleaseStateMachine(this, 'Release', {
      stateMachineName: this.releaseStateMachineName,
      logRetention: retention,
      functions: {
        validateInput,
        acquireLock,
        readBuildOutput,
        recordSnapshotManifest,
        compareSchema,
        registerTaskDefinition,
        checkTrial,
        deployService,
        checkHealth,
        smokeTest,
        checkInstalled,
        findLastKnownGood,
        recordRelease,
        releaseLock,
        pruneSnapshots,
      },
      buildProject: this.buildProject,
      topic: this.topic,
      cluster: app.cluster,
      service: app.service,
      containerName: app.containerName,
      desiredCount: app.desiredCount,
      targetGroup: app.targetGroup,
      trialFailingChecks: UNHEALTHY_THRESHOLD,
      database: app.database,
      snapshotPrefix: this.snapshotPrefix,
      siteUrl: app.siteUrl,
      install: {
        taskDefinition: app.taskDefinition,
        subnetIds: app.vpc.selectSubnets({ subnetType: SubnetType.PRIVATE_WITH_EGRESS }).subnetIds,
        // The service's group: the database and EFS admit it, and it has egress (ECR, secrets).
        securityGroupIds: [app.serviceSecurityGroup.securityGroupId],
      },
      sourceRepositoryUrl: this.sourceRepository.repositoryCloneUrlHttp,
      sourceBucketName: this.sourceBucket.bucketName,
      snapshotRetention: {
        keepNewest: config.keepReleaseSnapshots,
        keepKnownGood: config.keepKnownGoodSnapshots,
      },
      verifyBackup: { mode: config.releaseVerifyBackup, verifyRestore: this.verifyRestore },
    });
    const releaseMachine = this.release.stateMachine;

    this.triggers = new ReleaseTriggers(this, 'Triggers', {
      releaseStateMachine: releaseMachine,
      codeCommit: { repository: this.sourceRepository, branch: config.sourceBranch },
      s3: { bucket: this.sourceBucket, prefix: config.releasePrefix },
      topic: this.topic,
      logRetention: retention,
      metricsService,
    });
    this.notifications = new ReleaseNotifications(this, 'Announcements', {
      releaseStateMachine: releaseMachine,
      topic: this.topic,
      emailAddresses: config.notificationEmails,
      // The release machine's own SNS Task: once it ran, the release was announced.
      announcingStep: 'Notify',
      logRetention: retention,
      metricsService,
    });

    new FreeAbandonedLocks(this, 'AbandonedLocks', {
      releaseStateMachine: releaseMachine,
      lockTable: this.lockTable,
      serviceName: app.service.serviceName,
      cluster: app.cluster,
      logRetention: retention,
      metricsService,
    });

    this.operations = new OperationsDashboard(this, 'Operations', {
      dashboardName: `${config.prefix}-operations`,
      releaseStateMachine: releaseMachine,
      verifyRestoreStateMachine: this.verifyRestore.stateMachine,
      topic: this.topic,
      dimensions: { service: metricsService },
      // The verify-restore construct owns the restore alarms and publishes its own metrics.
      restoreMetrics: this.verifyRestore.metrics,
      externalAlarms: Object.values(this.verifyRestore.alarms),
      triggerDeadLetterQueue: this.triggers.deadLetterQueue,
    });

    // The keys cli/aws.ts reads (STACK_OUTPUTS); the constructs publish the rest.
    const output = (key: string, value: string, description: string) =>
      new CfnOutput(this, key, { value, description }).overrideLogicalId(key);
    output(
      'ReleaseStateMachineArn',
      releaseMachine.stateMachineArn,
      'Release state machine (stepdeploy release / status / rollback)',
    );
    output(
      'VerifyRestoreStateMachineArn',
      this.verifyRestore.stateMachine.stateMachineArn,
      'Backup restore verification state machine (stepdeploy verify-backup)',
    );
    output('LedgerTableName', this.ledgerTable.tableName, 'Release ledger (stepdeploy history)');
    output(
      'LockTableName',
      this.lockTable.tableName,
      'Release lock and queue (stepdeploy status: running and waiting)',
    );
    output('ServiceName', app.service.serviceName, 'ECS service the releases deploy');
    output('BuildProjectName', this.buildProject.projectName, 'CodeBuild image build project');
    output('NotificationTopicArn', this.topic.topicArn, 'Release notifications and alarms');
  }
}
