import {
  CfnOutput,
  CustomResource,
  Duration,
  Fn,
  RemovalPolicy,
  Size,
  Stack,
  type StackProps,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import type { AppConfig } from './config.ts';
import { acknowledge } from './nag.ts';

/** Name of the WordPress container in every task-definition revision. */
export const CONTAINER_NAME = 'wordpress';
/** Port the image listens on (`PORT`). */
export const CONTAINER_PORT = 8080;
/** Liveness endpoint of the image: 200 when PHP answers, no database call. */
export const HEALTH_CHECK_PATH = '/healthz';
/**
 * uid/gid the image runs as: Debian's `www-data`. The EFS access point creates the uploads
 * directory with this owner so the non-root container can write to it.
 */
export const CONTAINER_UID = 33;
/** Where the image keeps uploads; the only persistent path, backed by EFS. */
export const UPLOADS_PATH = '/var/lib/wordpress/wp-content/uploads';
/** The eight WordPress salts, as keys of the salts secret and suffixes of `WORDPRESS_*`. */
export const SALT_KEYS = [
  'AUTH_KEY',
  'SECURE_AUTH_KEY',
  'LOGGED_IN_KEY',
  'NONCE_KEY',
  'AUTH_SALT',
  'SECURE_AUTH_SALT',
  'LOGGED_IN_SALT',
  'NONCE_SALT',
] as const;
/**
 * Tag the task definition's image carries until a release has built one (no `image` in the
 * config). Never pulled: the service starts at zero tasks and the first release sets its
 * desired count with an image of its own.
 */
export const BOOTSTRAP_IMAGE_TAG = 'bootstrap';
/** MySQL engine of the database (and of every scratch restore). */
export const MYSQL_VERSION = rds.MysqlEngineVersion.VER_8_4_7;

/** Props of {@link ApplicationStack}. */
export interface ApplicationStackProps extends StackProps {
  readonly config: AppConfig;
}

/**
 * The running application: VPC, ECR repository, ECS cluster and Fargate service for
 * WordPress behind an ALB (optionally WAF-protected), RDS MySQL and EFS for uploads.
 * The public fields are what the pipeline stack needs (docs/contracts.md).
 */
export class ApplicationStack extends Stack {
  public readonly vpc: ec2.IVpc;
  public readonly cluster: ecs.Cluster;
  public readonly service: ecs.FargateService;
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  public readonly containerName: string = CONTAINER_NAME;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly siteUrl: string;
  public readonly repository: ecr.Repository;
  /** Tasks the service runs once released (config `desiredCount`); DeployService sets it. */
  public readonly desiredCount: number;
  public readonly database: rds.DatabaseInstance;
  public readonly databaseSecret: secretsmanager.ISecret;
  /** The only group besides the service's that the database admits (restore verifier). */
  public readonly verifierSecurityGroup: ec2.SecurityGroup;
  /** Security group of the service's tasks (also admitted by EFS and the database). */
  public readonly serviceSecurityGroup: ec2.SecurityGroup;
  /** Security group of the database instance (scratch restores reuse it). */
  public readonly databaseSecurityGroup: ec2.SecurityGroup;
  /** Generated WordPress salts (JSON with {@link SALT_KEYS}). */
  public readonly saltsSecret: secretsmanager.Secret;
  /** Operational alarms (unhealthy targets, 5xx, database CPU and storage). */
  public readonly alarms: cloudwatch.Alarm[];
  /** Topic the alarms notify, present when `alarmEmail` is configured. */
  public readonly alarmTopic?: sns.Topic;

  private readonly azCount: number;

  constructor(scope: Construct, id: string, props: ApplicationStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.azCount = config.azCount;
    const retention = config.logRetentionDays as logs.RetentionDays;

    // --- Network -------------------------------------------------------------------------
    const flowLogGroup = new logs.LogGroup(this, 'VpcFlowLogs', {
      retention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(config.vpcCidr),
      maxAzs: config.azCount,
      natGateways: config.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'db', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      flowLogs: {
        all: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
          trafficType: ec2.FlowLogTrafficType.ALL,
        },
      },
    });
    this.vpc = vpc;

    const albSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc,
      description: 'ALB: HTTP(S) from the internet, forwards to the WordPress tasks only',
      allowAllOutbound: false,
    });
    const serviceSecurityGroup = new ec2.SecurityGroup(this, 'ServiceSecurityGroup', {
      vpc,
      description:
        'WordPress tasks: traffic from the ALB; egress for ECR, Secrets Manager, updates',
      allowAllOutbound: true,
    });
    const databaseSecurityGroup = new ec2.SecurityGroup(this, 'DatabaseSecurityGroup', {
      vpc,
      description: 'RDS MySQL: only the WordPress tasks and the restore verifier',
      allowAllOutbound: false,
    });
    const verifierSecurityGroup = new ec2.SecurityGroup(this, 'VerifierSecurityGroup', {
      vpc,
      description: 'Backup restore verifier: reaches the database and scratch restores',
      allowAllOutbound: true,
    });
    const fileSystemSecurityGroup = new ec2.SecurityGroup(this, 'UploadsSecurityGroup', {
      vpc,
      description: 'EFS uploads: NFS from the WordPress tasks only',
      allowAllOutbound: false,
    });
    databaseSecurityGroup.addIngressRule(
      serviceSecurityGroup,
      ec2.Port.tcp(3306),
      'MySQL from the WordPress tasks',
    );
    databaseSecurityGroup.addIngressRule(
      verifierSecurityGroup,
      ec2.Port.tcp(3306),
      'MySQL from the restore verifier',
    );
    fileSystemSecurityGroup.addIngressRule(
      serviceSecurityGroup,
      ec2.Port.tcp(2049),
      'NFS from the WordPress tasks',
    );
    this.serviceSecurityGroup = serviceSecurityGroup;
    this.databaseSecurityGroup = databaseSecurityGroup;
    this.verifierSecurityGroup = verifierSecurityGroup;

    // --- Image repository ----------------------------------------------------------------
    // No fixed name: a name CloudFormation generates can never collide with a repository an
    // earlier, rolled-back or deleted stack left behind ("already exists").
    this.repository = new ecr.Repository(this, 'Repository', {
      imageScanOnPush: true,
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      encryption: ecr.RepositoryEncryption.AES_256,
      // Images outlive the stack: a task definition revision the pipeline may roll back to
      // must still be pullable. Except when the create itself rolls back: the new, empty
      // repository goes with it (CloudFormation RetainExceptOnCreate).
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
      lifecycleRules: [
        {
          rulePriority: 1,
          description: 'Drop untagged layers left by interrupted pushes',
          tagStatus: ecr.TagStatus.UNTAGGED,
          maxImageAge: Duration.days(7),
        },
        {
          rulePriority: 2,
          // Generous on purpose: the last known-good revision is always among these.
          description: 'Keep the 50 most recent release images',
          tagStatus: ecr.TagStatus.ANY,
          maxImageCount: 50,
        },
      ],
    });

    // --- Database ------------------------------------------------------------------------
    const instanceIdentifier = `${config.prefix}-wordpress`;
    const dbLogExports = ['error', 'slowquery'];
    // Created up front (RDS writes into existing groups) so retention is set without the
    // LogRetention custom resource and its extra Lambda. RDS fixes their names, so a failed
    // create must not leave them behind: RetainExceptOnCreate deletes them on its rollback.
    const dbLogGroups = dbLogExports.map(
      (name) =>
        new logs.LogGroup(this, `DatabaseLog-${name}`, {
          logGroupName: `/aws/rds/instance/${instanceIdentifier}/${name}`,
          retention,
          removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        }),
    );
    const database = new rds.DatabaseInstance(this, 'Database', {
      instanceIdentifier,
      engine: rds.DatabaseInstanceEngine.mysql({ version: MYSQL_VERSION }),
      instanceType: new ec2.InstanceType(config.dbInstanceClass),
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [databaseSecurityGroup],
      publiclyAccessible: false,
      credentials: rds.Credentials.fromGeneratedSecret('wordpress', {
        secretName: `${config.prefix}/database`,
        // Characters that need escaping in a DSN, a shell or a PHP string literal.
        excludeCharacters: ' %+~`#$&*()|[]{}:;<>?!\'/@"\\',
      }),
      databaseName: config.dbName,
      storageEncrypted: true,
      storageType: rds.StorageType.GP3,
      allocatedStorage: config.dbAllocatedStorage,
      maxAllocatedStorage: config.dbMaxAllocatedStorage,
      multiAz: config.dbMultiAz,
      iamAuthentication: config.dbIamAuth,
      deletionProtection: true,
      backupRetention: Duration.days(7),
      preferredBackupWindow: '03:00-04:00',
      preferredMaintenanceWindow: 'sun:04:30-sun:05:30',
      copyTagsToSnapshot: true,
      autoMinorVersionUpgrade: true,
      cloudwatchLogsExports: dbLogExports,
      enablePerformanceInsights: supportsPerformanceInsights(config.dbInstanceClass),
      removalPolicy: RemovalPolicy.SNAPSHOT,
    });
    for (const logGroup of dbLogGroups) database.node.addDependency(logGroup);
    this.database = database;
    if (!database.secret) throw new Error('generated credentials always produce a secret');
    this.databaseSecret = database.secret;

    // --- Uploads file system ------------------------------------------------------------
    const fileSystem = new efs.FileSystem(this, 'Uploads', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroup: fileSystemSecurityGroup,
      encrypted: true,
      performanceMode: efs.PerformanceMode.GENERAL_PURPOSE,
      throughputMode: efs.ThroughputMode.ELASTIC,
      lifecyclePolicy: efs.LifecyclePolicy.AFTER_30_DAYS,
      enableAutomaticBackups: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const accessPoint = fileSystem.addAccessPoint('UploadsAccessPoint', {
      path: '/uploads',
      createAcl: {
        ownerUid: String(CONTAINER_UID),
        ownerGid: String(CONTAINER_UID),
        permissions: '0755',
      },
      posixUser: { uid: String(CONTAINER_UID), gid: String(CONTAINER_UID) },
    });

    // --- WordPress salts -----------------------------------------------------------------
    this.saltsSecret = new secretsmanager.Secret(this, 'Salts', {
      secretName: `${config.prefix}/wordpress-salts`,
      description: 'WordPress authentication keys and salts (JSON, one key per salt)',
    });
    const saltsGenerator = new WordPressSalts(this, 'SaltsGenerator', {
      secret: this.saltsSecret,
      retention,
    });

    // --- Load balancer -------------------------------------------------------------------
    const accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      // ALB log delivery only supports SSE-S3.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: false,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(accessLogBucket, {
      'AwsSolutions-S1':
        'This bucket is the log destination itself; logging its own access would need another ' +
        'bucket whose access again goes unlogged. Public access is blocked and TLS enforced.',
    });
    const loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup: albSecurityGroup,
      dropInvalidHeaderFields: true,
      http2Enabled: true,
    });
    loadBalancer.logAccessLogs(accessLogBucket, 'alb');
    this.loadBalancer = loadBalancer;

    const https = config.certificateArn !== undefined;
    this.siteUrl =
      config.domainName !== undefined
        ? `${https ? 'https' : 'http'}://${config.domainName}`
        : `http://${loadBalancer.loadBalancerDnsName}`;

    // Gating speed vs. flapping: a new task turns healthy after 2 passes 10 s apart (~20 s)
    // and a broken one is marked unhealthy after 2 failures (~20 s), so the pipeline learns
    // the verdict within half a minute instead of the 2.5 min of the defaults (30 s x 5).
    // /healthz makes no DB call, so a 5 s timeout is ample and a DB blip cannot drain every
    // target at once. Deregistration waits 20 s: long enough for in-flight requests and
    // keep-alive connections to finish (WordPress pages answer in well under a second, the
    // ALB's idle timeout closes idle keep-alives), short enough not to slow each rollout
    // by the default 300 s.
    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
      vpc,
      port: CONTAINER_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      deregistrationDelay: Duration.seconds(20),
      // A new task's share of requests ramps up over 30 s (the ALB's minimum) instead of a
      // full round-robin share at once: its first pages (cold caches) stay few.
      slowStart: Duration.seconds(30),
      healthCheck: {
        path: HEALTH_CHECK_PATH,
        protocol: elbv2.Protocol.HTTP,
        healthyHttpCodes: '200',
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
      },
    });

    if (https && config.certificateArn !== undefined) {
      loadBalancer.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        certificates: [elbv2.ListenerCertificate.fromArn(config.certificateArn)],
        defaultTargetGroups: [this.targetGroup],
      });
      loadBalancer.addRedirect({
        sourcePort: 80,
        sourceProtocol: elbv2.ApplicationProtocol.HTTP,
        targetPort: 443,
        targetProtocol: elbv2.ApplicationProtocol.HTTPS,
      });
    } else {
      loadBalancer.addListener('Http', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        defaultTargetGroups: [this.targetGroup],
      });
    }
    acknowledge(albSecurityGroup, {
      'AwsSolutions-EC23':
        'Public website: the ALB must accept HTTP(S) from any address; WAF (enableWaf) filters it.',
    });

    if (config.enableWaf) {
      const webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
        scope: 'REGIONAL',
        defaultAction: { allow: {} },
        visibilityConfig: {
          cloudWatchMetricsEnabled: true,
          metricName: `${config.prefix}-web-acl`,
          sampledRequestsEnabled: true,
        },
        rules: [
          managedRuleGroup('AWSManagedRulesCommonRuleSet', 0, [
            // The core set blocks bodies over 8 KB, which would block media uploads and
            // long posts in wp-admin; count them instead of blocking.
            'SizeRestrictions_BODY',
          ]),
          managedRuleGroup('AWSManagedRulesPHPRuleSet', 1),
          managedRuleGroup('AWSManagedRulesWordPressRuleSet', 2),
        ],
      });
      new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
        resourceArn: loadBalancer.loadBalancerArn,
        webAclArn: webAcl.attrArn,
      });
    }

    // --- ECS -----------------------------------------------------------------------------
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    const taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
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
            fileSystemId: fileSystem.fileSystemId,
            transitEncryption: 'ENABLED',
            authorizationConfig: { accessPointId: accessPoint.accessPointId, iam: 'ENABLED' },
          },
        },
      ],
    });
    fileSystem.grant(
      taskDefinition.taskRole,
      'elasticfilesystem:ClientMount',
      'elasticfilesystem:ClientWrite',
    );
    // Revisions the pipeline registers point at this repository; the execution role pulls.
    const executionRole = taskDefinition.obtainExecutionRole();
    this.repository.grantPull(executionRole);
    acknowledge(executionRole, {
      'AwsSolutions-IAM5[Resource::*]':
        'ecr:GetAuthorizationToken has no resource-level permissions; the pulls themselves ' +
        '(BatchGetImage, GetDownloadUrlForLayer) are scoped to the repository.',
    });

    const appLogGroup = new logs.LogGroup(this, 'WordPressLogs', {
      retention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const container = taskDefinition.addContainer(CONTAINER_NAME, {
      containerName: CONTAINER_NAME,
      image:
        config.image !== undefined
          ? ecs.ContainerImage.fromRegistry(config.image)
          : ecs.ContainerImage.fromEcrRepository(this.repository, BOOTSTRAP_IMAGE_TAG),
      user: `${CONTAINER_UID}:${CONTAINER_UID}`,
      readonlyRootFilesystem: true,
      essential: true,
      portMappings: [{ containerPort: CONTAINER_PORT, protocol: ecs.Protocol.TCP, name: 'http' }],
      // Only non-secret settings here; credentials and salts arrive as ECS secrets below.
      environment: {
        PORT: String(CONTAINER_PORT),
        WORDPRESS_DB_HOST: database.instanceEndpoint.socketAddress,
        WORDPRESS_DB_NAME: config.dbName,
        WORDPRESS_SITE_URL: this.siteUrl,
      },
      secrets: {
        WORDPRESS_DB_USER: ecs.Secret.fromSecretsManager(this.databaseSecret, 'username'),
        WORDPRESS_DB_PASSWORD: ecs.Secret.fromSecretsManager(this.databaseSecret, 'password'),
        ...Object.fromEntries(
          SALT_KEYS.map((key) => [
            `WORDPRESS_${key}`,
            ecs.Secret.fromSecretsManager(this.saltsSecret, key),
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
        logGroup: appLogGroup,
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
    this.taskDefinition = taskDefinition;

    this.desiredCount = config.desiredCount;
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition,
      // First deploy (no image yet): zero tasks, so nothing pulls the unbuilt image and the
      // service is stable at once; the first release's DeployService sets desiredCount. With
      // an image the count is left out: CloudFormation then keeps the count the releases set
      // on every update instead of resetting it (AWS::ECS::Service DesiredCount).
      desiredCount: config.image === undefined ? 0 : undefined,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [serviceSecurityGroup],
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
    this.service.node.addDependency(saltsGenerator);
    this.service.attachToApplicationTargetGroup(this.targetGroup);
    // The ALB reaches the tasks on the container port only.
    serviceSecurityGroup.connections.allowFrom(
      albSecurityGroup,
      ec2.Port.tcp(CONTAINER_PORT),
      'HTTP from the ALB',
    );

    acknowledge(taskDefinition, {
      'AwsSolutions-ECS2':
        'Only non-secret settings (port, DB host and name, site URL) are plain environment; ' +
        'the DB credentials and the salts are injected as ECS secrets from Secrets Manager.',
    });
    // On the instance: its secret construct sits below it (database.secret is the attachment).
    acknowledge(database, {
      'AwsSolutions-SMG4':
        'ECS injects the password only at task start, so rotating it would break running ' +
        'tasks; rotate by updating the secret and releasing (new tasks read the new value).',
    });
    acknowledge(this.saltsSecret, {
      'AwsSolutions-SMG4':
        'Rotating salts logs every user out; they are rotated deliberately by an operator, ' +
        'not on a schedule.',
    });
    acknowledge(database, {
      'AwsSolutions-RDS11':
        'The default MySQL port is kept: the security group admits only the service and the ' +
        'verifier, and a non-standard port adds no protection behind that.',
      ...(config.dbMultiAz
        ? {}
        : {
            'AwsSolutions-RDS3':
              'Single-AZ by default for cost (dbMultiAz=true enables a standby); recovery is ' +
              'by verified snapshot restore.',
          }),
    });

    // --- Alarms --------------------------------------------------------------------------
    this.alarms = [
      new cloudwatch.Alarm(this, 'UnhealthyTargetsAlarm', {
        alarmDescription: 'A WordPress target has failed /healthz for 3 minutes',
        metric: this.targetGroup.metrics.unhealthyHostCount({
          period: Duration.minutes(1),
          statistic: 'Maximum',
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'Target5xxAlarm', {
        alarmDescription: 'WordPress answered more than 10 server errors in 5 minutes',
        metric: this.targetGroup.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, {
          period: Duration.minutes(5),
          statistic: 'Sum',
        }),
        threshold: 10,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'DatabaseCpuAlarm', {
        alarmDescription: 'Database CPU above 80% for 15 minutes',
        metric: database.metricCPUUtilization({ period: Duration.minutes(5) }),
        threshold: 80,
        evaluationPeriods: 3,
      }),
      new cloudwatch.Alarm(this, 'DatabaseStorageAlarm', {
        alarmDescription: 'Database free storage below 2 GiB (autoscaling may be at its ceiling)',
        metric: database.metricFreeStorageSpace({ period: Duration.minutes(5) }),
        threshold: 2 * 1024 ** 3,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 1,
      }),
    ];
    if (config.alarmEmail !== undefined) {
      // A customer managed key: CloudWatch cannot publish to a topic under the AWS managed
      // SNS key, because that key's policy cannot be extended.
      const alarmKey = new kms.Key(this, 'AlarmTopicKey', {
        description: 'Encrypts the stepdeploy application alarm topic',
        enableKeyRotation: true,
      });
      alarmKey.grant(
        new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
        'kms:Decrypt',
        'kms:GenerateDataKey*',
      );
      this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
        displayName: `${config.prefix} application alarms`,
        masterKey: alarmKey,
        enforceSSL: true,
      });
      this.alarmTopic.addSubscription(new snsSubscriptions.EmailSubscription(config.alarmEmail));
      const action = new cloudwatchActions.SnsAction(this.alarmTopic);
      for (const alarm of this.alarms) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
    }

    // --- Outputs -------------------------------------------------------------------------
    new CfnOutput(this, 'SiteUrl', { value: this.siteUrl, description: 'Public URL of the site' });
    new CfnOutput(this, 'ClusterName', { value: this.cluster.clusterName });
    new CfnOutput(this, 'ServiceName', { value: this.service.serviceName });
    new CfnOutput(this, 'TaskDefinitionFamily', { value: `${config.prefix}-wordpress` });
    new CfnOutput(this, 'EcrRepositoryUri', { value: this.repository.repositoryUri });
    new CfnOutput(this, 'TargetGroupArn', { value: this.targetGroup.targetGroupArn });
    new CfnOutput(this, 'LoadBalancerDnsName', { value: loadBalancer.loadBalancerDnsName });
    new CfnOutput(this, 'DatabaseEndpoint', { value: database.instanceEndpoint.socketAddress });
    new CfnOutput(this, 'DatabaseSecretArn', { value: this.databaseSecret.secretArn });
  }

  /**
   * Zones as `Fn::GetAZs` picks, never a context lookup: synth needs no credentials, and
   * unlike the env-agnostic default (two zones) this honours azCount = 3.
   */
  public override get availabilityZones(): string[] {
    return Array.from({ length: this.azCount }, (_, index) => Fn.select(index, Fn.getAzs()));
  }
}

/**
 * Performance Insights is not offered on the smallest burstable classes
 * (micro/small of t2/t3/t4g) for MySQL.
 */
export function supportsPerformanceInsights(instanceClass: string): boolean {
  return !/^t[234]g?\.(micro|small)$/.test(instanceClass);
}

function managedRuleGroup(
  name: string,
  priority: number,
  countOnly: string[] = [],
): wafv2.CfnWebACL.RuleProperty {
  return {
    name,
    priority,
    overrideAction: { none: {} },
    statement: {
      managedRuleGroupStatement: {
        vendorName: 'AWS',
        name,
        ruleActionOverrides:
          countOnly.length > 0
            ? countOnly.map((rule) => ({ name: rule, actionToUse: { count: {} } }))
            : undefined,
      },
    },
    visibilityConfig: {
      cloudWatchMetricsEnabled: true,
      metricName: name,
      sampledRequestsEnabled: true,
    },
  };
}

interface WordPressSaltsProps {
  readonly secret: secretsmanager.ISecret;
  readonly retention: logs.RetentionDays;
}

/** Inline handler of {@link WordPressSalts}; CommonJS because inline code is index.js. */
const SALTS_HANDLER = `
const https = require('node:https');
const { randomBytes } = require('node:crypto');
const { SecretsManagerClient, PutSecretValueCommand } = require('@aws-sdk/client-secrets-manager');
const KEYS = ${JSON.stringify(SALT_KEYS)};
const client = new SecretsManagerClient({});

function respond(event, status, reason) {
  const body = JSON.stringify({
    Status: status,
    Reason: reason,
    PhysicalResourceId: event.PhysicalResourceId || event.ResourceProperties.SecretId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    Data: {},
  });
  return new Promise((resolve, reject) => {
    const request = https.request(event.ResponseURL, {
      method: 'PUT',
      headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) },
    }, (response) => { response.resume(); response.on('end', resolve); });
    request.on('error', reject);
    request.end(body);
  });
}

exports.handler = async (event) => {
  const secretId = event.ResourceProperties.SecretId;
  const fresh = event.RequestType === 'Create' ||
    (event.RequestType === 'Update' && event.OldResourceProperties.SecretId !== secretId);
  try {
    if (fresh) {
      const salts = Object.fromEntries(KEYS.map((key) => [key, randomBytes(48).toString('base64')]));
      await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: JSON.stringify(salts) }));
    }
    console.log(JSON.stringify({ level: 'INFO', requestType: event.RequestType, generated: fresh }));
    await respond(event, 'SUCCESS', fresh ? 'salts generated' : 'salts kept');
  } catch (error) {
    // Only the error name and message: the values never reach the logs.
    const reason = String(error && error.name) + ': ' + String(error && error.message);
    console.log(JSON.stringify({ level: 'ERROR', requestType: event.RequestType, reason }));
    await respond(event, 'FAILED', reason.slice(0, 500));
  }
};
`;

/**
 * Fills the salts secret with eight random values once, at creation. CloudFormation can
 * generate only one random key per secret; this writes all eight without the values ever
 * appearing in the template, the custom-resource response or the logs. Later updates
 * leave the salts alone, because changing them logs every user out.
 */
class WordPressSalts extends Construct {
  constructor(scope: Construct, id: string, props: WordPressSaltsProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.retention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // A dedicated role instead of AWSLambdaBasicExecutionRole: write to this log group and
    // put a value into this one secret, nothing else.
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Writes generated WordPress salts into their secret',
    });
    logGroup.grantWrite(role);
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:PutSecretValue'],
        resources: [props.secret.secretArn],
      }),
    );
    const handler = new lambda.Function(this, 'Function', {
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromInline(SALTS_HANDLER),
      role,
      logGroup,
      timeout: Duration.seconds(30),
      memorySize: 256,
      description: 'Generates the eight WordPress salts into Secrets Manager',
    });
    handler.node.addDependency(role);
    const resource = new CustomResource(this, 'Resource', {
      serviceToken: handler.functionArn,
      resourceType: 'Custom::WordPressSalts',
      properties: { SecretId: props.secret.secretArn },
    });
    resource.node.addDependency(role);
  }
}
