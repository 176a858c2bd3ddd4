import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArnFormat, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import type { ICluster, IService, TaskDefinition } from 'aws-cdk-lib/aws-ecs';
import type { ITargetGroup } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IDatabaseInstance } from 'aws-cdk-lib/aws-rds';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { NamedError } from '#commons/errors.ts';
import type { liveDatabaseEnvironment } from '#commons/live-database.ts';
import { VERIFY_METRICS_NAMESPACE } from '#commons/metrics.ts';
import { SCRATCH_TAG } from '#commons/verify-scratch.ts';
import {
  type ArnPattern,
  CLUSTER_TASKS,
  patternArn,
  patternFinding,
  rdsPattern,
  scratchInstances,
} from './arn-patterns.ts';
import { METRICS_NAMESPACE, METRICS_SERVICE } from './dashboard.ts';
import {
  HANDLER_ENVIRONMENTS,
  type StepEnvironment,
  type StepName,
  type StepsReading,
  type StepVariable,
} from './handler-environments.ts';
import { nagResource } from './nag-ids.ts';
import { passTaskRolesStatement } from './task-roles.ts';

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * What the bundles get for `semver` (relative to the project root, where esbuild runs): only
 * its `gte`, the one function aws-xray-sdk-core calls (see the file).
 */
export const SEMVER_STAND_IN = 'pipeline-stack/constructs/semver-gte.ts';

/**
 * The variables every StepFunction sets itself (Powertools' service and namespace, Node's
 * options), besides those its handler declares.
 */
export const PLATFORM_VARIABLES = [
  'POWERTOOLS_SERVICE_NAME',
  'POWERTOOLS_METRICS_NAMESPACE',
  'NODE_OPTIONS',
] as const;

/**
 * A construct set a variable the step's handler does not declare: the types refuse it in
 * TypeScript, this at synth time for a name computed at run time.
 */
export class UndeclaredEnvironmentError extends NamedError {
  override readonly name = 'UndeclaredEnvironmentError';
  constructor(step: StepName, variable: string) {
    super(
      `functions/${step}/env.ts declares no ${variable}: declare it in the handler's environmentSchema, or do not set it`,
    );
  }
}

function checkDeclared(step: StepName, name: string): void {
  const platform: readonly string[] = PLATFORM_VARIABLES;
  if (!(name in HANDLER_ENVIRONMENTS[step].shape) && !platform.includes(name))
    throw new UndeclaredEnvironmentError(step, name);
}

/** A StepFunction whose handler declares every one of the variables `N`. */
type Reading<N extends string> = StepFunction<StepsReading<N>>;

type LiveDatabaseVariable = keyof typeof liveDatabaseEnvironment.shape;

/** The variables of a step that logs in to a database with the login in its secret. */
type DatabaseLoginVariable = 'DATABASE_SECRET_ARN' | 'DATABASE_NAME' | 'TABLE_PREFIX';

type Conditions = Record<string, Record<string, unknown>>;

/** ListTasks has no resource type; the ecs:cluster condition scopes it to our cluster. */
const LIST_TASKS_REASON =
  'ecs:ListTasks has no resource type (conditioned on ecs:cluster, our cluster)';

/** Why the function's role has "*" statements at all: X-Ray, which every StepFunction traces to. */
const XRAY_REASON =
  'X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) accepts no resource ARN';

/**
 * esbuild settings of every Lambda bundle of the project ({@link StepFunction} and the salts
 * custom resource): CommonJS for node20, minified with `keepNames` (error class names are the
 * ASL's ErrorEquals values), source maps with positions only, the SDK left to the runtime.
 */
export const LAMBDA_BUNDLING: BundlingOptions = {
  format: OutputFormat.CJS,
  target: 'node20',
  minify: true,
  keepNames: true,
  sourceMap: true,
  // Stack traces need file and line only; the embedded sources were three quarters of
  // the map that --enable-source-maps reads at every cold start.
  sourcesContent: false,
  // The Lambda runtime ships the SDK v3 with its @smithy packages, and a client has
  // loaded them before the X-Ray patcher asks for one.
  externalModules: ['@aws-sdk/*', '@smithy/*'],
  // aws-xray-sdk-core (under the Powertools tracer) pulls in all of semver for one call.
  esbuildArgs: { '--alias': `semver=./${SEMVER_STAND_IN}` },
  forceDockerBundling: false,
};

/**
 * Where NodejsFunction finds the handler of `functions/<folder>/` and what it bundles against
 * (the project root and its lock file).
 */
export function lambdaSource(folder: string) {
  return {
    entry: join(projectRoot, 'functions', folder, 'handler.ts'),
    handler: 'handler',
    projectRoot,
    depsLockFilePath: join(projectRoot, 'package-lock.json'),
  } as const;
}

/** Properties of one Lambda step. */
export interface StepFunctionProps<S extends StepName = StepName> {
  /** Folder under functions/ (the kebab-case state name), e.g. `check-health`. */
  readonly step: S;
  readonly description: string;
  /** Default 30 seconds; the smoke test needs longer for its bounded retries. */
  readonly timeout?: Duration;
  /** Days to keep the function's logs (default one month). */
  readonly logRetention?: RetentionDays;
  /** Default 256 MiB. */
  readonly memorySize?: number;
  /**
   * Variables the step's handler declares (functions/<step>/env.ts) that no bindX() method
   * sets; a name the handler does not declare does not compile.
   */
  readonly environment?: StepEnvironment<S>;
  /**
   * Value of the `service` dimension of the custom metrics (POWERTOOLS_SERVICE_NAME); must
   * match the dashboard's dimension (default {@link METRICS_SERVICE}).
   */
  readonly metricsService?: string;
  /** Run in this VPC (for steps that reach the database or tasks); out of any VPC by default. */
  readonly vpc?: IVpc;
  /** Subnets in `vpc`; they need a route to the AWS APIs the step calls. */
  readonly vpcSubnets?: SubnetSelection;
  readonly securityGroups?: readonly ISecurityGroup[];
  /** Where failed asynchronous invocations land (functions that EventBridge invokes). */
  readonly deadLetterQueue?: IQueue;
}

/**
 * Every Lambda of the project (state-machine steps, triggers, notifications, the sweeper) with
 * one set of defaults: Node 22 runtime (bundle targets Node 20) on arm64, X-Ray tracing, an
 * explicit log group with retention, source maps (positions only), esbuild `keepNames` (error
 * class names are the ASL's ErrorEquals values), the SDK and @smithy left to the runtime, and
 * the metrics namespace and `service` dimension the dashboard reads. `bindX()` methods grant
 * IAM and set the matching environment together, and each compiles only for a step whose
 * handler declares the variables it sets.
 */
export class StepFunction<S extends StepName = StepName> extends NodejsFunction {
  /** The folder under functions/ whose handler.ts this function runs. */
  readonly step: S;
  /** Why each "*" statement of the role is there (the X-Ray one first), for its cdk-nag finding. */
  private readonly anyResourceReasons: string[] = [XRAY_REASON];

  constructor(scope: Construct, id: string, props: StepFunctionProps<S>) {
    for (const name of Object.keys(props.environment ?? {})) checkDeclared(props.step, name);
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    super(scope, id, {
      description: props.description,
      ...lambdaSource(props.step),
      // nodejs20.x is deprecated for new functions; the bundle targets node20 so it runs on 22 too.
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      tracing: Tracing.ACTIVE,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 256,
      logGroup,
      environment: {
        ...props.environment,
        // CloudWatch names are case-sensitive: these must equal the dashboard's namespace and
        // dimension, or the releases chart and the FailureDirty alarm watch an empty metric.
        POWERTOOLS_SERVICE_NAME: props.metricsService ?? METRICS_SERVICE,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
      },
      ...(props.vpc
        ? {
            vpc: props.vpc,
            vpcSubnets: props.vpcSubnets,
            securityGroups: props.securityGroups ? [...props.securityGroups] : undefined,
          }
        : {}),
      ...(props.deadLetterQueue ? { deadLetterQueue: props.deadLetterQueue } : {}),
      bundling: LAMBDA_BUNDLING,
    });
    this.step = props.step;
    this.acknowledge('AwsSolutions-IAM5[Resource::*]', `${XRAY_REASON}.`);
    this.acknowledge(
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'The AWS managed basic execution role only lets the function write its own logs.',
    );
    if (props.vpc) {
      this.acknowledge(
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        'A function in a VPC needs to manage its network interfaces, which is exactly what this managed policy grants.',
      );
    }
    this.acknowledge(
      'AwsSolutions-L1',
      'Node 22 is used on purpose: the code is built and tested on Node 20 (@middy/core 6, local runner); Node 24 is untested here.',
    );
  }

  private acknowledge(id: string, reason: string): void {
    Validations.of(this).acknowledge({ id, reason });
  }

  /**
   * Allows `actions` on the resources of one ARN pattern of this stack, and acknowledges the
   * wildcard in it to cdk-nag (AwsSolutions-IAM5) with `reason`.
   */
  private allowOnPattern(
    actions: string[],
    pattern: ArnPattern,
    reason: string,
    conditions?: Conditions,
  ): void {
    this.addToRolePolicy(
      new PolicyStatement({
        actions,
        resources: [patternArn(this, pattern)],
        ...(conditions ? { conditions } : {}),
      }),
    );
    this.acknowledge(patternFinding(this, pattern), reason);
  }

  /**
   * Allows `actions`, which accept no resource ARN, on "*" (narrowed by `conditions` where the
   * service has a condition key), and adds `reason` to the acknowledgement of the role's one
   * `Resource::*` finding, so it names every "*" statement the role holds.
   */
  private allowOnAnyResource(actions: string[], reason: string, conditions?: Conditions): void {
    this.addToRolePolicy(
      new PolicyStatement({ actions, resources: ['*'], ...(conditions ? { conditions } : {}) }),
    );
    this.anyResourceReasons.push(reason);
    this.acknowledge('AwsSolutions-IAM5[Resource::*]', `${this.anyResourceReasons.join('; ')}.`);
  }

  /**
   * DescribeDBSnapshots with DBInstanceIdentifier, which is authorized on the instance and the
   * snapshots (`snapshot:*`: which ones exist is only known at run time).
   */
  private allowSnapshotListing(database: IDatabaseInstance, reason: string): void {
    this.addToRolePolicy(
      new PolicyStatement({
        actions: ['rds:DescribeDBSnapshots'],
        resources: [database.instanceArn, patternArn(this, rdsPattern('snapshot', '*'))],
      }),
    );
    this.acknowledge(patternFinding(this, rdsPattern('snapshot', '*')), reason);
  }

  /** Read the login from `secret` (never into the environment) and name the schema to use. */
  private bindDatabaseLogin<T extends Reading<DatabaseLoginVariable>>(
    this: T,
    secret: ISecret,
    databaseName: string,
    tablePrefix: string,
  ): T {
    secret.grantRead(this);
    this.addEnvironment('DATABASE_SECRET_ARN', secret.secretArn);
    this.addEnvironment('DATABASE_NAME', databaseName);
    this.addEnvironment('TABLE_PREFIX', tablePrefix);
    return this;
  }

  /**
   * DescribeTaskDefinition and RegisterTaskDefinition, which accept no resource ARN (the
   * revision registered is `family`'s, from the one the step describes).
   */
  private allowTaskDefinitionRegistration(family: string): void {
    this.allowOnAnyResource(
      ['ecs:DescribeTaskDefinition', 'ecs:RegisterTaskDefinition'],
      `ecs:DescribeTaskDefinition and ecs:RegisterTaskDefinition accept no resource ARN (it registers revisions of ${family})`,
    );
  }

  /** Sets one variable; only a name the step's handler declares (or a platform one) compiles. */
  override addEnvironment(
    key: StepVariable<S> | (typeof PLATFORM_VARIABLES)[number],
    value: string,
    options?: Parameters<NodejsFunction['addEnvironment']>[2],
  ): this {
    // Unset while NodejsFunction's constructor adds props.environment, checked above.
    if (this.step !== undefined) checkDeclared(this.step, key);
    return super.addEnvironment(key, value, options);
  }

  /** Read/write the lock table. */
  bindLockTable<T extends Reading<'LOCK_TABLE_NAME'>>(this: T, table: ITable): T {
    this.addToRolePolicy(
      new PolicyStatement({
        actions: [
          'dynamodb:PutItem',
          'dynamodb:GetItem',
          'dynamodb:DeleteItem',
          // AcquireLock takes the lock in a transaction that checks the release queue item.
          'dynamodb:ConditionCheckItem',
        ],
        resources: [table.tableArn],
      }),
    );
    this.addEnvironment('LOCK_TABLE_NAME', table.tableName);
    return this;
  }

  /** How long a lock this step takes holds before another release may take it over. */
  bindLockLease<T extends Reading<'LOCK_LEASE_SECONDS'>>(this: T, leaseSeconds: number): T {
    this.addEnvironment('LOCK_LEASE_SECONDS', String(leaseSeconds));
    return this;
  }

  /** Write release records to the ledger. */
  bindLedgerWriter<T extends Reading<'LEDGER_TABLE_NAME'>>(this: T, table: ITable): T {
    this.addToRolePolicy(
      new PolicyStatement({ actions: ['dynamodb:PutItem'], resources: [table.tableArn] }),
    );
    this.addEnvironment('LEDGER_TABLE_NAME', table.tableName);
    return this;
  }

  /** Query the ledger's sparse last-known-good index. */
  bindLedgerReader<T extends Reading<'LEDGER_TABLE_NAME' | 'LEDGER_GOOD_INDEX'>>(
    this: T,
    table: ITable,
    goodIndexName: string,
  ): T {
    this.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [`${table.tableArn}/index/${goodIndexName}`],
      }),
    );
    this.addEnvironment('LEDGER_TABLE_NAME', table.tableName);
    this.addEnvironment('LEDGER_GOOD_INDEX', goodIndexName);
    return this;
  }

  /** Read the service's deployments and tasks; optionally update it. */
  bindService(cluster: ICluster, service: IService, options: { update: boolean }): this {
    this.addToRolePolicy(
      new PolicyStatement({
        actions: ['ecs:DescribeServices', ...(options.update ? ['ecs:UpdateService'] : [])],
        resources: [service.serviceArn],
      }),
    );
    if (!options.update) {
      this.bindTaskReader(cluster);
      this.allowOnAnyResource(['ecs:ListTasks'], LIST_TASKS_REASON, {
        ArnEquals: { 'ecs:cluster': cluster.clusterArn },
      });
    }
    return this;
  }

  /** DescribeTasks on our cluster's tasks (ids are only known at run time). */
  bindTaskReader(cluster: ICluster): this {
    // The ecs:cluster condition pins the task ids to our cluster.
    this.allowOnPattern(
      ['ecs:DescribeTasks'],
      CLUSTER_TASKS,
      "DescribeTasks on our cluster's tasks, whose ids are only known at run time; limited to our cluster by the ecs:cluster condition.",
      { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
    );
    return this;
  }

  /** List our cluster's tasks and stop them (a one-off task a release left running). */
  bindTaskStopper<T extends Reading<'CLUSTER_ARN'>>(this: T, cluster: ICluster): T {
    const inCluster = { ArnEquals: { 'ecs:cluster': cluster.clusterArn } };
    this.allowOnAnyResource(['ecs:ListTasks'], LIST_TASKS_REASON, inCluster);
    this.allowOnPattern(
      ['ecs:StopTask'],
      CLUSTER_TASKS,
      'StopTask on a one-off task a release left running, whose id is only known at run time; limited to our cluster by the ecs:cluster condition.',
      inCluster,
    );
    this.addEnvironment('CLUSTER_ARN', cluster.clusterArn);
    return this;
  }

  /** Register new revisions of the family; pass only its task and execution roles to ECS. */
  bindTaskDefinitionFamily(taskDefinition: TaskDefinition): this {
    this.allowTaskDefinitionRegistration(taskDefinition.family);
    this.allowOnPattern(
      ['ecs:TagResource'],
      {
        service: 'ecs',
        resource: 'task-definition',
        resourceName: `${taskDefinition.family}:*`,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      },
      'Tags each new revision of our one task family when it is registered; revision numbers are not known in advance.',
      { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
    );
    this.addToRolePolicy(passTaskRolesStatement(taskDefinition));
    return this;
  }

  /** Read target health, health-check settings and attributes of the service's target group. */
  bindTargetGroup(_targetGroup: ITargetGroup): this {
    this.allowOnAnyResource(
      [
        'elasticloadbalancing:DescribeTargetHealth',
        'elasticloadbalancing:DescribeTargetGroups',
        'elasticloadbalancing:DescribeTargetGroupAttributes',
      ],
      'Elastic Load Balancing Describe* actions support no resource-level permissions',
    );
    return this;
  }

  /**
   * List the database's manual snapshots and delete release snapshots: only those named
   * `<snapshotPrefix>-*` AND tagged `stepdeploy:service=<serviceName>` (aws:ResourceTag), so a
   * snapshot a person made, or another service's, cannot be deleted whatever the code decides.
   */
  bindReleaseSnapshots(
    database: IDatabaseInstance,
    snapshotPrefix: string,
    serviceName: string,
  ): this {
    this.allowSnapshotListing(
      database,
      "Lists the database's manual snapshots (read-only); which ones exist is only known at run time.",
    );
    this.allowOnPattern(
      ['rds:DeleteDBSnapshot'],
      rdsPattern('snapshot', `${snapshotPrefix}-*`),
      'Deletes release snapshots only: by name prefix, and conditioned on the stepdeploy:service tag of this service.',
      { StringEquals: { 'aws:ResourceTag/stepdeploy:service': serviceName } },
    );
    return this;
  }

  /**
   * List the database's snapshots, to pick the one a verification restores (the newest
   * automated one, or the one asked for), and name the instance they are of.
   */
  bindVerificationSnapshots<T extends Reading<'DATABASE_INSTANCE_ID'>>(
    this: T,
    database: IDatabaseInstance,
  ): T {
    this.allowSnapshotListing(
      database,
      "Lists this database's snapshots (read-only) to pick the one to restore; which ones exist is only known at run time.",
    );
    this.addEnvironment('DATABASE_INSTANCE_ID', database.instanceIdentifier);
    return this;
  }

  /** How scratch instances are named (`<prefix>-scratch-<hash>`) and when they expire. */
  bindScratchNaming<T extends Reading<'SCRATCH_PREFIX' | 'SCRATCH_TTL_MINUTES'>>(
    this: T,
    prefix: string,
    ttl: Duration,
  ): T {
    this.addEnvironment('SCRATCH_PREFIX', prefix);
    this.addEnvironment('SCRATCH_TTL_MINUTES', String(ttl.toMinutes()));
    return this;
  }

  /**
   * Find the scratch instances of `prefix` and delete them: every instance may be listed (which
   * are scratch, and expired, is read from their tags), but only one named like a scratch
   * instance AND tagged as one (aws:ResourceTag) may be deleted.
   */
  bindScratchInstances(prefix: string): this {
    this.allowOnPattern(
      ['rds:DescribeDBInstances'],
      rdsPattern('db', '*'),
      'Lists every instance to find the expired scratch ones by their tags (read-only).',
    );
    this.allowOnPattern(
      ['rds:DeleteDBInstance'],
      scratchInstances(prefix),
      'Deletes scratch instances only: by name pattern, and conditioned on the scratch tag.',
      { StringEquals: { [`aws:ResourceTag/${SCRATCH_TAG}`]: 'true' } },
    );
    return this;
  }

  /**
   * Connect to the live database as the login in its secret (read here, never in the
   * environment) and read WordPress's db_version from `<tablePrefix>options`. The function must
   * sit in the VPC with a security group the database admits.
   */
  bindLiveDatabase<T extends Reading<LiveDatabaseVariable>>(
    this: T,
    database: IDatabaseInstance,
    secret: ISecret,
    databaseName: string,
    tablePrefix: string,
  ): T {
    this.bindDatabaseLogin(secret, databaseName, tablePrefix);
    this.addEnvironment('DATABASE_HOST', database.dbInstanceEndpointAddress);
    this.addEnvironment('DATABASE_PORT', database.dbInstanceEndpointPort);
    return this;
  }

  /**
   * Log in to a restored copy of the database as the login in its secret (a restore keeps it),
   * and know the live database to compare with when its snapshot has no manifest. The function
   * must sit in the VPC with a security group the scratch and the live instance admit.
   */
  bindVerificationDatabase<
    T extends Reading<DatabaseLoginVariable | 'LIVE_DATABASE_HOST' | 'LIVE_DATABASE_PORT'>,
  >(
    this: T,
    database: IDatabaseInstance,
    secret: ISecret,
    databaseName: string,
    tablePrefix: string,
  ): T {
    this.bindDatabaseLogin(secret, databaseName, tablePrefix);
    this.addEnvironment('LIVE_DATABASE_HOST', database.dbInstanceEndpointAddress);
    this.addEnvironment('LIVE_DATABASE_PORT', database.dbInstanceEndpointPort);
    return this;
  }

  /** How far a restored table's row count may be from the manifest's (a fraction, 0.1 = 10 %). */
  bindRowCountTolerance<T extends Reading<'ROW_COUNT_TOLERANCE'>>(this: T, tolerance: number): T {
    this.addEnvironment('ROW_COUNT_TOLERANCE', String(tolerance));
    return this;
  }

  /**
   * Read snapshot manifests (`<prefix><snapshotId>.json`) and nothing else of the bucket. With
   * ListBucket on the prefix a missing manifest answers 404 NoSuchKey, not 403.
   */
  bindManifestReader<T extends Reading<'MANIFEST_BUCKET' | 'MANIFEST_PREFIX'>>(
    this: T,
    bucket: IBucket,
    prefix: string,
  ): T {
    const manifests = bucket.arnForObjects(`${prefix}*`);
    this.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:GetObject'], resources: [manifests] }),
    );
    this.acknowledge(
      `AwsSolutions-IAM5[${nagResource(this, manifests)}]`,
      'Reads snapshot manifests only, under their prefix; each key carries a snapshot id known at run time.',
    );
    this.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
      }),
    );
    this.addEnvironment('MANIFEST_BUCKET', bucket.bucketName);
    this.addEnvironment('MANIFEST_PREFIX', prefix);
    return this;
  }

  /**
   * Find the one-off verification task of `cluster` (DescribeTasks) and probe it on `appPort`
   * with `siteHost` as the Host header (the verification's site, never the live one).
   */
  bindApplicationProbe<T extends Reading<'CLUSTER_ARN' | 'APP_PORT' | 'SITE_HOST'>>(
    this: T,
    cluster: ICluster,
    appPort: number,
    siteHost: string,
  ): T {
    this.bindTaskReader(cluster);
    this.addEnvironment('CLUSTER_ARN', cluster.clusterArn);
    this.addEnvironment('APP_PORT', String(appPort));
    this.addEnvironment('SITE_HOST', siteHost);
    return this;
  }

  /**
   * Register the verification's own revisions (`<family>-verify`) from the current one and pass
   * only the task definition's roles to ECS; no tagging, and no production revision is run.
   */
  bindVerificationTaskDefinition(taskDefinition: TaskDefinition, verificationFamily: string): this {
    this.allowTaskDefinitionRegistration(verificationFamily);
    this.addToRolePolicy(passTaskRolesStatement(taskDefinition));
    return this;
  }

  /**
   * Publish the verification metrics (RTO, RPO, outcome) of `database` with PutMetricData,
   * which has no resource type: conditioned on their namespace.
   */
  bindVerificationMetrics<T extends Reading<'METRIC_NAMESPACE' | 'DATABASE_INSTANCE_ID'>>(
    this: T,
    database: IDatabaseInstance,
  ): T {
    this.allowOnAnyResource(
      ['cloudwatch:PutMetricData'],
      `cloudwatch:PutMetricData has no resource type (conditioned on the ${VERIFY_METRICS_NAMESPACE} namespace)`,
      { StringEquals: { 'cloudwatch:namespace': VERIFY_METRICS_NAMESPACE } },
    );
    this.addEnvironment('METRIC_NAMESPACE', VERIFY_METRICS_NAMESPACE);
    this.addEnvironment('DATABASE_INSTANCE_ID', database.instanceIdentifier);
    return this;
  }

  /** Read the history of executions of the named state machine (for per-step durations). */
  bindExecutionHistory(stateMachineName: string): this {
    this.allowOnPattern(
      ['states:GetExecutionHistory'],
      {
        service: 'states',
        resource: 'execution',
        resourceName: `${stateMachineName}:*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      },
      'Reads the history of executions of the release state machine only; execution names are per run.',
    );
    return this;
  }
}
