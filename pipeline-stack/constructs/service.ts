import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { SALT_KEYS } from '#functions/generate-salts/generate-salts.ts';
import type { AppConfig } from '../config.ts';
import { acknowledge } from '../nag.ts';
import type { Database } from './database.ts';
import type { Network } from './network.ts';
import type { SiteSecrets } from './site-secrets.ts';
import type { Uploads } from './uploads.ts';
import {
  BOOTSTRAP_IMAGE_TAG,
  CONTAINER_NAME,
  CONTAINER_PORT,
  CONTAINER_UID,
  HEALTH_CHECK_PATH,
  UPLOADS_PATH,
} from './wordpress-contract.ts';

/** Props of {@link WordPressService}. */
export interface WordPressServiceProps {
  readonly config: Pick<
    AppConfig,
    'prefix' | 'taskCpu' | 'taskMemoryMiB' | 'cpuArchitecture' | 'image' | 'dbName'
  >;
  readonly network: Network;
  readonly repository: ecr.IRepository;
  readonly uploads: Uploads;
  readonly database: Database;
  readonly secrets: SiteSecrets;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** What WordPress answers as its own address (`WORDPRESS_SITE_URL`). */
  readonly siteUrl: string;
  /** Retention of the container logs. */
  readonly retention: logs.RetentionDays;
}

/**
 * The ECS cluster, the WordPress task definition (non-root, read-only root, EFS uploads,
 * secrets injected by ECS) and the Fargate service behind the target group, rolled out with
 * no capacity dip and ECS's circuit breaker. Created in `scope` under the ids they always had
 * (see Network for why no Construct node of its own).
 */
export class WordPressService {
  readonly cluster: ecs.Cluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly service: ecs.FargateService;

  constructor(scope: Construct, props: WordPressServiceProps) {
    const { config, network } = props;
    this.cluster = new ecs.Cluster(scope, 'Cluster', {
      vpc: network.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    this.taskDefinition = this.addTaskDefinition(scope, props);

    this.service = new ecs.FargateService(scope, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      // First deploy (no image yet): zero tasks, so nothing pulls the unbuilt image and the
      // service is stable at once; the first release's DeployService sets desiredCount. With
      // an image the count is left out: CloudFormation then keeps the count the releases set
      // on every update instead of resetting it (AWS::ECS::Service DesiredCount).
      desiredCount: config.image === undefined ? 0 : undefined,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [network.serviceSecurityGroup],
      assignPublicIp: false,
      platformVersion: ecs.FargatePlatformVersion.LATEST,
      // New tasks start and pass health checks before old ones stop: capacity never dips.
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      // ECS rolls a failing deployment back by itself; the pipeline reads the rollout state
      // and reports such a release as failed.
      circuitBreaker: { enable: true, rollback: true },
      deploymentController: { type: ecs.DeploymentControllerType.ECS },
      // Covers Apache start-up before the first ALB check can count against a new task.
      healthCheckGracePeriod: Duration.seconds(60),
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      enableECSManagedTags: true,
    });
    // No task may start before its salts exist.
    this.service.node.addDependency(props.secrets.saltsGenerator);
    this.service.attachToApplicationTargetGroup(props.targetGroup);
    // The ALB reaches the tasks on the container port only.
    network.serviceSecurityGroup.connections.allowFrom(
      network.loadBalancerSecurityGroup,
      ec2.Port.tcp(CONTAINER_PORT),
      'HTTP from the ALB',
    );
    // The release asks the trial task of a new revision directly (CheckTrial, verifier group).
    network.serviceSecurityGroup.connections.allowFrom(
      network.verifierSecurityGroup,
      ec2.Port.tcp(CONTAINER_PORT),
      'HTTP from the release trial probe',
    );
    acknowledge(this.taskDefinition, {
      'AwsSolutions-ECS2':
        'Only non-secret settings (port, DB host and name, site URL) are plain environment; ' +
        'the DB credentials and the salts are injected as ECS secrets from Secrets Manager.',
    });
  }

  /** The application stack's own revision; releases register the next ones from it. */
  private addTaskDefinition(
    scope: Construct,
    props: WordPressServiceProps,
  ): ecs.FargateTaskDefinition {
    const { config, uploads, database, secrets } = props;
    const taskDefinition = new ecs.FargateTaskDefinition(scope, 'TaskDefinition', {
      family: `${config.prefix}-wordpress`,
      cpu: config.taskCpu,
      memoryLimitMiB: config.taskMemoryMiB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.of(config.cpuArchitecture),
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
      volumes: [
        // Task-local scratch space: the root file system is read-only.
        { name: 'tmp' },
        { name: 'run' },
        {
          name: 'uploads',
          efsVolumeConfiguration: {
            fileSystemId: uploads.fileSystem.fileSystemId,
            transitEncryption: 'ENABLED',
            authorizationConfig: {
              accessPointId: uploads.accessPoint.accessPointId,
              iam: 'ENABLED',
            },
          },
        },
      ],
    });
    uploads.fileSystem.grant(
      taskDefinition.taskRole,
      'elasticfilesystem:ClientMount',
      'elasticfilesystem:ClientWrite',
    );
    // Revisions the pipeline registers point at this repository; the execution role pulls.
    const executionRole = taskDefinition.obtainExecutionRole();
    props.repository.grantPull(executionRole);
    acknowledge(executionRole, {
      'AwsSolutions-IAM5[Resource::*]':
        'ecr:GetAuthorizationToken has no resource-level permissions; the pulls themselves ' +
        '(BatchGetImage, GetDownloadUrlForLayer) are scoped to the repository.',
    });

    const logGroup = new logs.LogGroup(scope, 'WordPressLogs', {
      retention: props.retention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const container = taskDefinition.addContainer(CONTAINER_NAME, {
      containerName: CONTAINER_NAME,
      image:
        config.image !== undefined
          ? ecs.ContainerImage.fromRegistry(config.image)
          : ecs.ContainerImage.fromEcrRepository(props.repository, BOOTSTRAP_IMAGE_TAG),
      user: `${CONTAINER_UID}:${CONTAINER_UID}`,
      readonlyRootFilesystem: true,
      essential: true,
      portMappings: [{ containerPort: CONTAINER_PORT, protocol: ecs.Protocol.TCP, name: 'http' }],
      // Only non-secret settings here; credentials and salts arrive as ECS secrets below.
      environment: {
        PORT: String(CONTAINER_PORT),
        WORDPRESS_DB_HOST: database.instance.instanceEndpoint.socketAddress,
        WORDPRESS_DB_NAME: config.dbName,
        WORDPRESS_SITE_URL: props.siteUrl,
      },
      secrets: {
        WORDPRESS_DB_USER: ecs.Secret.fromSecretsManager(database.secret, 'username'),
        WORDPRESS_DB_PASSWORD: ecs.Secret.fromSecretsManager(database.secret, 'password'),
        // Only stepdeploy-install (the one-off InstallWordPress task) uses it; see docs/release.md.
        WORDPRESS_ADMIN_PASSWORD: ecs.Secret.fromSecretsManager(secrets.adminSecret, 'password'),
        ...Object.fromEntries(
          SALT_KEYS.map((key) => [
            `WORDPRESS_${key}`,
            ecs.Secret.fromSecretsManager(secrets.saltsSecret, key),
          ]),
        ),
      },
      healthCheck: {
        command: [
          'CMD-SHELL',
          `curl -fsS http://127.0.0.1:${CONTAINER_PORT}${HEALTH_CHECK_PATH} || exit 1`,
        ],
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(30),
      },
      // Apache finishes in-flight requests on SIGTERM (graceful-stop) within this window.
      stopTimeout: Duration.seconds(30),
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: 'wordpress',
        logGroup,
        // A full log buffer must never stall request handling.
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: Size.mebibytes(25),
      }),
    });
    container.addMountPoints(
      { sourceVolume: 'tmp', containerPath: '/tmp', readOnly: false },
      { sourceVolume: 'run', containerPath: '/run', readOnly: false },
      { sourceVolume: 'uploads', containerPath: UPLOADS_PATH, readOnly: false },
    );
    return taskDefinition;
  }
}
