import { readFileSync } from 'node:fs';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { CfnSecurityGroup } from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ApplicationStack,
  SALT_KEYS,
  supportsPerformanceInsights,
} from '../../pipeline-stack/application-stack.ts';
import { ConfigError, loadConfig, parseConfig } from '../../pipeline-stack/config.ts';

// The feature flags of cdk.json, so the test app builds what `cdk synth` builds.
const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};
const CERTIFICATE_ARN =
  'arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-123456789abc';

type Resource = { Type: string; Properties: Record<string, unknown> };

function build(context: Record<string, unknown> = {}) {
  const app = new App({ context: { ...cdkJson.context, region: 'eu-west-1', ...context } });
  const config = loadConfig(app, {});
  const stack = new ApplicationStack(app, 'App', {
    env: { account: config.account, region: config.region },
    config,
  });
  return { app, stack, config };
}

function synth(context: Record<string, unknown> = {}) {
  const built = build(context);
  return { ...built, template: Template.fromStack(built.stack) };
}

function logicalId(stack: ApplicationStack, group: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(group.node.defaultChild as CfnSecurityGroup);
}

/** The WordPress container definition of the stack's task definition. */
function container(template: Template): Record<string, unknown> {
  const [taskDefinition] = Object.values(
    template.findResources('AWS::ECS::TaskDefinition'),
  ) as Resource[];
  const definitions = taskDefinition?.Properties.ContainerDefinitions as Record<string, unknown>[];
  const found = definitions.find((definition) => definition.Name === 'wordpress');
  if (!found) throw new Error('no wordpress container');
  return found;
}

describe('ApplicationStack with the default config', () => {
  let built: ReturnType<typeof synth>;
  beforeAll(() => {
    built = synth();
  });

  it('encrypts the database, keeps it private, protected and backed up for 7 days', () => {
    // Prepare
    const { template } = built;
    // Act
    const instances = template.findResources('AWS::RDS::DBInstance');
    // Assess
    expect(Object.keys(instances)).toHaveLength(1);
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'mysql',
      EngineVersion: Match.stringLikeRegexp('^8\\.4\\.'),
      StorageEncrypted: true,
      DeletionProtection: true,
      BackupRetentionPeriod: 7,
      PubliclyAccessible: false,
      MultiAZ: false,
      EnableCloudwatchLogsExports: ['error', 'slowquery'],
      // t4g.small does not offer Performance Insights.
      EnablePerformanceInsights: false,
    });
    template.hasResource('AWS::RDS::DBInstance', {
      DeletionPolicy: 'Snapshot',
      UpdateReplacePolicy: 'Snapshot',
    });
  });

  it('places the database in the isolated subnets only', () => {
    // Prepare
    const { stack, template } = built;
    const isolated = stack.vpc.isolatedSubnets.map((subnet) => stack.resolve(subnet.subnetId));
    // Act
    const groups = Object.values(template.findResources('AWS::RDS::DBSubnetGroup')) as Resource[];
    // Assess
    expect(isolated).toHaveLength(2);
    expect(groups).toHaveLength(1);
    expect(groups[0]?.Properties.SubnetIds).toEqual(isolated);
  });

  it('runs tasks in the private subnets and the ALB in the public ones', () => {
    // Prepare
    const { stack, template } = built;
    const privateSubnets = stack.vpc.privateSubnets.map((s) => stack.resolve(s.subnetId));
    const publicSubnets = stack.vpc.publicSubnets.map((s) => stack.resolve(s.subnetId));
    // Act + Assess
    template.hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: {
        AwsvpcConfiguration: { AssignPublicIp: 'DISABLED', Subnets: privateSubnets },
      },
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      Subnets: publicSubnets,
    });
  });

  it('admits MySQL only from the service and the verifier security groups', () => {
    // Prepare
    const { stack, template } = built;
    const databaseGroup = logicalId(stack, stack.databaseSecurityGroup);
    const expected = [
      logicalId(stack, stack.serviceSecurityGroup),
      logicalId(stack, stack.verifierSecurityGroup),
    ].sort();
    // Act
    const rules = (
      Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')) as Resource[]
    )
      .map((rule) => rule.Properties)
      .filter((rule) => JSON.stringify(rule.GroupId).includes(`"${databaseGroup}"`));
    const inline = template.findResources('AWS::EC2::SecurityGroup')[databaseGroup] as Resource;
    // Assess
    expect(inline.Properties.SecurityGroupIngress).toBeUndefined();
    expect(rules.every((rule) => rule.FromPort === 3306 && rule.ToPort === 3306)).toBe(true);
    expect(rules.every((rule) => rule.CidrIp === undefined && rule.CidrIpv6 === undefined)).toBe(
      true,
    );
    expect(
      rules
        .map((rule) => (rule.SourceSecurityGroupId as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0])
        .sort(),
    ).toEqual(expected);
    expect(stack.verifierSecurityGroup.securityGroupId).toBeDefined();
  });

  it('admits the container port on the service only from the ALB and the verifier group (the trial probe)', () => {
    // Prepare
    const { stack, template } = built;
    const serviceGroup = logicalId(stack, stack.serviceSecurityGroup);
    // Act
    const rules = (
      Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')) as Resource[]
    )
      .map((rule) => rule.Properties)
      .filter((rule) => JSON.stringify(rule.GroupId).includes(`"${serviceGroup}"`));
    // Assess
    expect(rules.map((rule) => [rule.FromPort, rule.ToPort])).toEqual([
      [8080, 8080],
      [8080, 8080],
    ]);
    expect(
      rules
        .map((rule) => (rule.SourceSecurityGroupId as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0])
        .sort(),
    ).toEqual(
      [
        logicalId(stack, stack.verifierSecurityGroup),
        expect.stringMatching(/^LoadBalancerSecurityGroup|^Alb/),
      ].sort(),
    );
  });

  it('admits NFS to the uploads file system only from the service', () => {
    // Prepare
    const { stack, template } = built;
    const service = logicalId(stack, stack.serviceSecurityGroup);
    // Act
    const rules = (
      Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')) as Resource[]
    )
      .map((rule) => rule.Properties)
      .filter((rule) => rule.FromPort === 2049);
    // Assess
    expect(rules).toHaveLength(1);
    expect(rules[0]?.SourceSecurityGroupId).toEqual({ 'Fn::GetAtt': [service, 'GroupId'] });
    template.hasResourceProperties('AWS::EFS::FileSystem', { Encrypted: true });
    template.hasResourceProperties('AWS::EFS::AccessPoint', {
      PosixUser: { Uid: '33', Gid: '33' },
      RootDirectory: { CreationInfo: { OwnerUid: '33', OwnerGid: '33' } },
    });
  });

  it('injects DB credentials and the eight salts as secrets, never as plain environment', () => {
    // Prepare
    const { stack, template } = built;
    const definition = container(template);
    const secrets = definition.Secrets as { Name: string; ValueFrom: unknown }[];
    const environment = definition.Environment as { Name: string; Value: unknown }[];
    const databaseSecret = stack.resolve(stack.databaseSecret.secretArn);
    const saltsSecret = stack.resolve(stack.saltsSecret.secretArn);
    // Act
    const byName = new Map(
      secrets.map((secret) => [secret.Name, JSON.stringify(secret.ValueFrom)]),
    );
    // Assess
    expect(byName.get('WORDPRESS_DB_PASSWORD')).toContain(':password::');
    expect(byName.get('WORDPRESS_DB_PASSWORD')).toContain(JSON.stringify(databaseSecret));
    expect(byName.get('WORDPRESS_DB_USER')).toContain(':username::');
    for (const key of SALT_KEYS) {
      expect(byName.get(`WORDPRESS_${key}`)).toContain(`:${key}::`);
      expect(byName.get(`WORDPRESS_${key}`)).toContain(JSON.stringify(saltsSecret));
    }
    expect(environment.map((variable) => variable.Name).sort()).toEqual([
      'PORT',
      'WORDPRESS_DB_HOST',
      'WORDPRESS_DB_NAME',
      'WORDPRESS_SITE_URL',
    ]);
    expect(environment.some((v) => /PASSWORD|SECRET|_KEY|SALT/.test(v.Name))).toBe(false);
    template.resourceCountIs('Custom::WordPressSalts', 1);
  });

  it('generates the admin password into its own secret, injected as an ECS secret only', () => {
    // Prepare
    const { stack, template } = built;
    const definition = container(template);
    const secrets = definition.Secrets as { Name: string; ValueFrom: unknown }[];
    const environment = JSON.stringify(definition.Environment);
    const admin = stack.resolve(stack.adminSecret.secretArn);
    // Act
    const password = secrets.find((secret) => secret.Name === 'WORDPRESS_ADMIN_PASSWORD');
    // Assess
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: Match.absent(),
      GenerateSecretString: Match.objectLike({
        SecretStringTemplate: '{"username":"admin"}',
        GenerateStringKey: 'password',
        PasswordLength: 32,
      }),
    });
    expect(JSON.stringify(password?.ValueFrom)).toContain(JSON.stringify(admin));
    expect(JSON.stringify(password?.ValueFrom)).toContain(':password::');
    expect(environment).not.toContain('ADMIN');
    template.hasOutput('AdminSecretArn', { Value: admin });
  });

  it('runs the container non-root on a read-only root with /healthz and port 8080', () => {
    // Prepare
    const { template } = built;
    // Act
    const definition = container(template);
    // Assess
    expect(definition).toMatchObject({
      User: '33:33',
      ReadonlyRootFilesystem: true,
      PortMappings: [{ ContainerPort: 8080, Protocol: 'tcp' }],
      HealthCheck: { Command: ['CMD-SHELL', expect.stringContaining('/healthz')] },
      LogConfiguration: { LogDriver: 'awslogs' },
    });
    expect(definition.MountPoints).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ ContainerPath: '/tmp', SourceVolume: 'tmp' }),
        expect.objectContaining({ ContainerPath: '/run', SourceVolume: 'run' }),
        expect.objectContaining({
          ContainerPath: '/var/lib/wordpress/wp-content/uploads',
          SourceVolume: 'uploads',
        }),
      ]),
    );
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Family: 'stepdeploy-wordpress',
      Volumes: Match.arrayWith([
        Match.objectLike({
          Name: 'uploads',
          EFSVolumeConfiguration: Match.objectLike({ TransitEncryption: 'ENABLED' }),
        }),
      ]),
    });
  });

  it('deploys with 100/200 %, circuit breaker with rollback, and no task before a release', () => {
    // Prepare
    const { template } = built;
    // Act + Assess
    template.hasResourceProperties('AWS::ECS::Service', {
      // The first deploy has no image yet: the service is stable at once and the first
      // release's DeployService sets the configured count (2).
      DesiredCount: 0,
      LaunchType: 'FARGATE',
      DeploymentConfiguration: {
        MinimumHealthyPercent: 100,
        MaximumPercent: 200,
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      },
      DeploymentController: { Type: 'ECS' },
    });
    template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });

  it('gates on /healthz with fast, deliberate target-group settings', () => {
    // Prepare
    const { template } = built;
    // Act + Assess
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 8080,
      TargetType: 'ip',
      HealthCheckPath: '/healthz',
      HealthCheckIntervalSeconds: 10,
      HealthCheckTimeoutSeconds: 5,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 2,
      Matcher: { HttpCode: '200' },
      TargetGroupAttributes: Match.arrayWith([
        { Key: 'deregistration_delay.timeout_seconds', Value: '20' },
        { Key: 'slow_start.duration_seconds', Value: '30' },
      ]),
    });
  });

  it('serves plain HTTP without a certificate', () => {
    // Prepare
    const { template } = built;
    // Act
    const listeners = Object.values(
      template.findResources('AWS::ElasticLoadBalancingV2::Listener'),
    ) as Resource[];
    // Assess
    expect(listeners).toHaveLength(1);
    expect(listeners[0]?.Properties).toMatchObject({
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [{ Type: 'forward' }],
    });
    template.hasOutput('SiteUrl', {
      Value: { 'Fn::Join': ['', ['http://', Match.anyValue()]] },
    });
  });

  it('logs ALB access to an encrypted private bucket and drops invalid headers', () => {
    // Prepare
    const { template } = built;
    // Act + Assess
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
        { Key: 'access_logs.s3.enabled', Value: 'true' },
      ]),
    });
  });

  it('keeps every log group for the configured retention', () => {
    // Prepare
    const { template } = built;
    // Act
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup')) as Resource[];
    // Assess
    expect(groups.length).toBeGreaterThanOrEqual(4);
    expect(groups.map((group) => group.Properties.RetentionInDays)).toEqual(groups.map(() => 30));
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL' });
  });

  it('scans images on push, forbids tag overwrites and expires old images', () => {
    // Prepare
    const { template } = built;
    // Act + Assess
    template.hasResourceProperties('AWS::ECR::Repository', {
      ImageScanningConfiguration: { ScanOnPush: true },
      ImageTagMutability: 'IMMUTABLE',
      LifecyclePolicy: { LifecyclePolicyText: Match.stringLikeRegexp('"countNumber":50') },
    });
  });

  it('names the unbuilt bootstrap image of its own repository until an image is configured', () => {
    // Prepare
    const { stack, template } = built;
    const repository = stack.resolve(stack.repository.repositoryName);
    // Act
    const image = JSON.stringify(container(template).Image);
    // Assess: not a public image that cannot honour the image contract (port 80, root).
    expect(image).toContain(JSON.stringify(repository));
    expect(image).toContain(':bootstrap');
    expect(image).not.toMatch(/docker\/library|php8\.4-apache/);
  });

  it('leaves nothing behind a rolled-back create that a second deploy would collide with', () => {
    // Prepare
    const { template } = built;
    const names = ['RepositoryName', 'LogGroupName', 'TableName', 'BucketName', 'Name'];
    // Act
    const kept = Object.entries(
      template.toJSON().Resources as Record<string, Resource & { DeletionPolicy?: string }>,
    ).filter(
      ([, r]) => r.DeletionPolicy === 'Retain' || r.DeletionPolicy === 'RetainExceptOnCreate',
    );
    // Assess: a resource kept after a failed create has no fixed name; a fixed-name one (RDS
    // names its log groups) is deleted by the create's rollback (RetainExceptOnCreate).
    expect(kept.length).toBeGreaterThan(0);
    for (const [id, resource] of kept) {
      const fixed = names.filter((key) => typeof resource.Properties?.[key] === 'string');
      if (resource.DeletionPolicy === 'Retain') expect({ id, fixed }).toEqual({ id, fixed: [] });
    }
    template.hasResource('AWS::ECR::Repository', {
      DeletionPolicy: 'RetainExceptOnCreate',
      Properties: Match.objectLike({ RepositoryName: Match.absent() }),
    });
    const rdsLogs = kept.filter(([, r]) =>
      String(r.Properties?.LogGroupName ?? '').startsWith('/aws/rds/instance/'),
    );
    expect(rdsLogs.map(([, r]) => r.DeletionPolicy)).toEqual([
      'RetainExceptOnCreate',
      'RetainExceptOnCreate',
    ]);
  });

  it('adds no WAF unless enabled and spans two zones with one NAT gateway', () => {
    // Prepare
    const { template } = built;
    // Act + Assess
    template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
    template.resourceCountIs('AWS::EC2::Subnet', 6);
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
  });

  it('exposes the fields and outputs the pipeline and people need', () => {
    // Prepare
    const { stack, template } = built;
    // Act
    const outputs = Object.keys(template.findOutputs('*'));
    // Assess
    expect(outputs).toEqual(
      expect.arrayContaining([
        'SiteUrl',
        'ClusterName',
        'ServiceName',
        'EcrRepositoryUri',
        'DatabaseEndpoint',
        'TaskDefinitionFamily',
        'TargetGroupArn',
      ]),
    );
    expect(stack.containerName).toBe('wordpress');
    expect(stack.taskDefinition.family).toBe('stepdeploy-wordpress');
    expect(stack.siteUrl).toMatch(/^http:\/\//);
  });

  it('has no unacknowledged cdk-nag AwsSolutions finding', () => {
    // Prepare
    const { app } = built;
    // Act
    const report = new AwsSolutionsChecks(app, { verbose: true }).validateScope(app);
    // Assess
    expect(report.violations.map((violation) => violation.ruleName)).toEqual([]);
    expect(report.success).toBe(true);
  });
});

describe('ApplicationStack variants', () => {
  it('adds HTTPS with an HTTP redirect and an https site URL when a certificate is set', () => {
    // Prepare
    const context = { certificateArn: CERTIFICATE_ARN, domainName: 'blog.example.com' };
    // Act
    const { template, app } = synth(context);
    // Assess
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: CERTIFICATE_ARN }],
      SslPolicy: Match.stringLikeRegexp('TLS13'),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [
        { Type: 'redirect', RedirectConfig: Match.objectLike({ Protocol: 'HTTPS', Port: '443' }) },
      ],
    });
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 2);
    template.hasOutput('SiteUrl', { Value: 'https://blog.example.com' });
    expect(container(template).Environment).toContainEqual({
      Name: 'WORDPRESS_SITE_URL',
      Value: 'https://blog.example.com',
    });
    expect(new AwsSolutionsChecks(app).validateScope(app).violations).toEqual([]);
  });

  it('attaches a WAF with the core, PHP and WordPress rule sets only when enabled', () => {
    // Prepare
    const context = { enableWaf: 'true' };
    // Act
    const { template, app } = synth(context);
    // Assess
    const acls = Object.values(template.findResources('AWS::WAFv2::WebACL')) as Resource[];
    expect(acls).toHaveLength(1);
    const rules = acls[0]?.Properties.Rules as {
      Statement: { ManagedRuleGroupStatement: { Name: string; VendorName: string } };
    }[];
    expect(rules.map((rule) => rule.Statement.ManagedRuleGroupStatement.Name)).toEqual([
      'AWSManagedRulesCommonRuleSet',
      'AWSManagedRulesPHPRuleSet',
      'AWSManagedRulesWordPressRuleSet',
    ]);
    template.hasResourceProperties('AWS::WAFv2::WebACL', { Scope: 'REGIONAL' });
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      ResourceArn: { Ref: Match.stringLikeRegexp('^LoadBalancer') },
    });
    expect(new AwsSolutionsChecks(app).validateScope(app).violations).toEqual([]);
  });

  it('spans three zones with azCount 3 without any context lookup', () => {
    // Prepare
    const context = { azCount: '3', natGateways: '3' };
    // Act
    const { template, stack, app } = synth(context);
    // Assess
    template.resourceCountIs('AWS::EC2::Subnet', 9);
    template.resourceCountIs('AWS::EC2::NatGateway', 3);
    template.resourceCountIs('AWS::EFS::MountTarget', 3);
    const zones = (Object.values(template.findResources('AWS::EC2::Subnet')) as Resource[]).map(
      (subnet) => JSON.stringify(subnet.Properties.AvailabilityZone),
    );
    expect(new Set(zones).size).toBe(3);
    expect(stack.vpc.isolatedSubnets).toHaveLength(3);
    expect(app.node.metadata.filter((entry) => entry.type === 'aws:cdk:missing-context')).toEqual(
      [],
    );
  });

  it('applies log retention, Multi-AZ, Performance Insights and desired count from config', () => {
    // Prepare
    const image = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/x@sha256:'.padEnd(119, 'a');
    const context = {
      logRetentionDays: 90,
      dbMultiAz: true,
      dbInstanceClass: 'db.m7g.large',
      desiredCount: 3,
      image,
    };
    // Act
    const { template, app, stack } = synth(context);
    // Assess
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup')) as Resource[];
    expect(new Set(groups.map((group) => group.Properties.RetentionInDays))).toEqual(new Set([90]));
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      MultiAZ: true,
      DBInstanceClass: 'db.m7g.large',
      EnablePerformanceInsights: true,
    });
    // The count is the releases' (DeployService sets 3); with an image configured the template
    // leaves it out, so a later deploy keeps the running count instead of resetting it.
    expect(stack.desiredCount).toBe(3);
    template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: Match.absent() });
    expect(container(template).Image).toBe(image);
    expect(new AwsSolutionsChecks(app).validateScope(app).violations).toEqual([]);
  });

  it('notifies an encrypted topic from every alarm only when an alarm email is set', () => {
    // Prepare
    const context = { alarmEmail: 'ops@example.com' };
    // Act
    const { template, app } = synth(context);
    const plain = synth().template;
    // Assess
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: Match.anyValue(),
    });
    const [topic] = Object.keys(template.findResources('AWS::SNS::Topic'));
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Resource[];
    expect(alarms).toHaveLength(4);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topic }]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: topic }]);
    }
    plain.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    plain.resourceCountIs('AWS::SNS::Topic', 0);
    expect(new AwsSolutionsChecks(app).validateScope(app).violations).toEqual([]);
  });

  it('fails synth through the registered cdk-nag plugin on a non-compliant resource', () => {
    // Prepare: the clean stack plus a bucket without access logs, TLS or encryption settings
    const { app, stack } = build();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    new s3.Bucket(stack, 'Careless');
    // Act + Assess
    expect(() => Template.fromStack(stack)).toThrow(/AwsSolutions-S1/);
  });

  it('synthesizes cleanly through the registered cdk-nag plugin', () => {
    // Prepare
    const { app, stack } = build({ enableWaf: true });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // Act
    const template = Template.fromStack(stack);
    // Assess
    template.resourceCountIs('AWS::ECS::Service', 1);
  });
});

describe('config', () => {
  const invalid: [string, Record<string, unknown>, RegExp][] = [
    ['azCount out of range', { azCount: 4 }, /'azCount'.*from 2 to 3, got 4/],
    ['azCount not a number', { azCount: 'three' }, /'azCount'.*integer/],
    ['more NAT gateways than zones', { natGateways: '3' }, /'natGateways'.*from 1 to 2/],
    ['retention CloudWatch rejects', { logRetentionDays: 8 }, /'logRetentionDays'.*got 8/],
    ['boolean typo', { enableWaf: 'yes' }, /'enableWaf'.*true or false/],
    ['upper-case prefix', { prefix: 'StepDeploy' }, /'prefix'/],
    ['certificate without domain', { certificateArn: CERTIFICATE_ARN }, /'domainName'.*required/],
    ['malformed certificate', { certificateArn: 'cert-123' }, /'certificateArn'/],
    ['memory Fargate lacks', { taskCpu: 512, taskMemoryMiB: 1536 }, /'taskMemoryMiB'/],
    ['cpu Fargate lacks', { taskCpu: 300 }, /'taskCpu'/],
    [
      'storage ceiling below size',
      { dbAllocatedStorage: 50, dbMaxAllocatedStorage: 30 },
      /'dbMaxAllocatedStorage'/,
    ],
    ['bad account id', { account: '12345' }, /'account'/],
    ['bad instance class', { dbInstanceClass: 'large' }, /'dbInstanceClass'/],
    ['bad CIDR', { vpcCidr: '10.0.0.0/8' }, /'vpcCidr'/],
    ['image with spaces', { image: 'word press' }, /'image'/],
    ['release prefix with a wildcard', { releasePrefix: 'rel*/' }, /'releasePrefix'/],
    ['release prefix without a slash', { releasePrefix: 'releases' }, /'releasePrefix'/],
    [
      'a bad address in the list',
      { notificationEmails: 'ops@example.com,nobody' },
      /'notificationEmails'.*"nobody"/,
    ],
    ['addresses as a number', { notificationEmails: 42 }, /'notificationEmails'.*list/],
    ['schedule that is not an expression', { verifySchedule: 'daily' }, /'verifySchedule'/],
    ['repository name with spaces', { sourceRepositoryName: 'my site' }, /'sourceRepositoryName'/],
    ['branch with ..', { sourceBranch: 'a..b' }, /'sourceBranch'/],
    ['RTO of zero', { restoreRtoMinutes: 0 }, /'restoreRtoMinutes'/],
  ];

  it.each(invalid)('refuses %s with a message naming the key', (_name, context, message) => {
    // Prepare
    const lookup = (key: string) => context[key];
    // Act
    const parse = () => parseConfig(lookup);
    // Assess
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(message);
  });

  it('applies defaults and accepts CLI strings as well as JSON values', () => {
    // Prepare
    const context: Record<string, unknown> = { azCount: '3', natGateways: 2, dbMultiAz: 'true' };
    // Act
    const config = parseConfig((key) => context[key], { CDK_DEFAULT_REGION: 'eu-central-1' });
    // Assess
    expect(config).toMatchObject({
      prefix: 'stepdeploy',
      region: 'eu-central-1',
      azCount: 3,
      natGateways: 2,
      desiredCount: 2,
      enableWaf: false,
      dbMultiAz: true,
      logRetentionDays: 30,
      dbInstanceClass: 't4g.small',
    });
    expect(config.account).toBeUndefined();
    expect(config.certificateArn).toBeUndefined();
  });

  it('defaults the pipeline keys and reads address lists from strings and arrays', () => {
    // Prepare
    const fromCli = { notificationEmails: ' ops@example.com,dev@example.com,ops@example.com ' };
    const fromJson = { notificationEmails: ['ops@example.com'], sourceRepositoryName: 'site' };
    // Act
    const defaults = parseConfig(() => undefined);
    const cli = parseConfig((key) => fromCli[key as keyof typeof fromCli]);
    const json = parseConfig((key) => fromJson[key as keyof typeof fromJson]);
    // Assess
    expect(defaults).toMatchObject({
      sourceBranch: 'main',
      releasePrefix: 'releases/',
      notificationEmails: [],
      verifySchedule: 'cron(17 6 * * ? *)',
      restoreRtoMinutes: 45,
    });
    expect(defaults.sourceRepositoryName).toBeUndefined();
    expect(cli.notificationEmails).toEqual(['ops@example.com', 'dev@example.com']);
    expect(json).toMatchObject({
      notificationEmails: ['ops@example.com'],
      sourceRepositoryName: 'site',
    });
  });

  it('reports a bad context value when the app is built', () => {
    // Prepare
    const app = new App({ context: { desiredCount: '0' } });
    // Act
    const load = () => loadConfig(app, {});
    // Assess
    expect(load).toThrow(/Invalid config 'desiredCount'.*from 1 to 100, got 0/);
  });

  it.each([
    ['t4g.micro', false],
    ['t3.small', false],
    ['t4g.medium', true],
    ['m7g.large', true],
  ])('knows whether %s offers Performance Insights', (instanceClass, expected) => {
    // Prepare + Act
    const supported = supportsPerformanceInsights(instanceClass);
    // Assess
    expect(supported).toBe(expected);
  });
});
