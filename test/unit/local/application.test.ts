import { describe, expect, it } from 'vitest';
import {
  ApplicationTemplateError,
  accessPointsFromTemplate,
  applicationFromTemplates,
  cfnToSdk,
  haproxyBalance,
  serviceSettings,
  targetGroupSettings,
  taskDefinitionRegistration,
} from '#local/application.ts';
import { adminPasswordFileOf, initialTaskDefinition, siteSecretPaths } from '#local/bootstrap.ts';
import { fargateProblems } from '#local/fargate.ts';
import { releaseDesiredCount } from '#local/synth.ts';
import { releaseDefinitionFromAssembly } from '#testkit/synthesized.ts';
import { smallApplication, synthesizedApplication } from './fixtures/application.ts';

const LOCAL = {
  family: 'stepdeploy-wordpress',
  database: { host: '127.0.0.1', port: 13306 },
  loadBalancerAddress: '127.0.0.1:8080',
  secretFile: (secret: { name: string; database: boolean }, key: string) =>
    `/state/secrets/${secret.database ? 'db' : secret.name.replace('/', '_')}-${key}`,
};
const IMAGE = { containerName: 'wordpress', uri: `127.0.0.1:5000/wp@sha256:${'a'.repeat(64)}` };

describe('targetGroupSettings (the synthesized target group)', () => {
  it.each([
    // time factor, interval, timeout, deregistration, grace, slow start
    [1, 10_000, 5_000, 20_000, 60_000, 30_000],
    [0.3, 3_000, 1_500, 6_000, 18_000, 9_000],
    [0.1, 1_000, 500, 2_000, 6_000, 3_000],
  ])(
    'x %d: interval %d ms, timeout %d ms, deregistration %d ms, grace %d ms, slow start %d ms; thresholds unscaled',
    (factor, intervalMs, timeoutMs, deregistrationDelayMs, startGraceMs, slowStartMs) => {
      // Prepare
      const app = synthesizedApplication();

      // Act
      const got = targetGroupSettings(app, factor);

      // Assess
      expect(got.healthCheck).toEqual({
        path: '/healthz',
        intervalMs,
        timeoutMs,
        rise: 2,
        fall: 2,
        startGraceMs,
        matcher: '200',
      });
      expect(got.deregistrationDelayMs).toBe(deregistrationDelayMs);
      expect(got.slowStartMs).toBe(slowStartMs);
      expect(got.aws).toEqual({
        intervalSeconds: 10,
        timeoutSeconds: 5,
        healthyThreshold: 2,
        unhealthyThreshold: 2,
        deregistrationDelaySeconds: 20,
        slowStartSeconds: 30,
        healthCheckGracePeriodSeconds: 60,
      });
    },
  );

  it('says which fields of the synthesized target group local mode does not honour', () => {
    // Act
    const got = targetGroupSettings(synthesizedApplication(), 0.3);

    // Assess
    expect(got.notHonoured).toEqual([
      'Port=8080: every local task has its own port on 127.0.0.1 (see docs/local.md)',
    ]);
  });

  it.each([
    {
      name: 'ALB defaults for fields the template leaves out, no grace when the service sets none',
      targetGroup: {},
      service: {},
      want: {
        healthCheck: {
          path: '/',
          intervalMs: 30_000,
          timeoutMs: 5_000,
          rise: 5,
          fall: 2,
          startGraceMs: 0,
          matcher: '200',
        },
        deregistrationDelayMs: 300_000,
        slowStartMs: 0,
        balance: 'roundrobin',
        notHonoured: [],
      },
    },
    {
      name: 'slow start is played by HAProxy, scaled like every timing',
      targetGroup: {
        TargetGroupAttributes: [{ Key: 'slow_start.duration_seconds', Value: '30' }],
      },
      service: {},
      want: { slowStartMs: 30_000, notHonoured: [] },
    },
    {
      name: 'matcher lists and ranges are kept in ALB syntax',
      targetGroup: { Matcher: { HttpCode: '200-299, 302' } },
      service: {},
      want: { healthCheck: expect.objectContaining({ matcher: '200-299,302' }) },
    },
    {
      name: 'stickiness, HTTPS, a fixed check port are reported; the routing algorithm is played',
      targetGroup: {
        HealthCheckProtocol: 'HTTPS',
        HealthCheckPort: '9000',
        TargetGroupAttributes: [
          { Key: 'stickiness.enabled', Value: 'true' },
          { Key: 'load_balancing.algorithm.type', Value: 'least_outstanding_requests' },
          { Key: 'slow_start.duration_seconds', Value: '0' },
          { Key: 'deregistration_delay.timeout_seconds', Value: '0' },
        ],
      },
      service: {},
      want: {
        deregistrationDelayMs: 0,
        slowStartMs: 0,
        balance: 'leastconn',
        notHonoured: [
          'TargetGroupAttributes.stickiness.enabled="true": the local HAProxy plays no stickiness and no anomaly mitigation',
          'HealthCheckProtocol="HTTPS": HAProxy speaks HTTP to 127.0.0.1 targets',
          `HealthCheckPort="9000": checks go to each task's own port (traffic-port)`,
        ],
      },
    },
  ])('$name', ({ targetGroup, service, want }) => {
    // Prepare
    const app = smallApplication({ targetGroup, service });

    // Act
    const got = targetGroupSettings(app, 1);

    // Assess
    expect(got).toMatchObject(want);
  });

  it('refuses a matcher HAProxy cannot express', () => {
    // Prepare
    const app = smallApplication({ targetGroup: { Matcher: { HttpCode: '2xx' } } });

    // Act
    const act = () => targetGroupSettings(app, 1);

    // Assess
    expect(act).toThrow(/Matcher.HttpCode must be codes or ranges/);
  });
});

describe('applicationFromTemplates', () => {
  it('finds the service, its task definition and its target group in the synthesized app', () => {
    // Act
    const app = synthesizedApplication();

    // Assess
    expect(app.service.logicalId).toMatch(/^Service/);
    expect(app.taskDefinition.logicalId).toMatch(/^TaskDefinition/);
    expect(app.targetGroup.logicalId).toMatch(/^TargetGroup/);
    expect(serviceSettings(app)).toEqual({
      // Created with no task: the first release's DeployService sets the count.
      desiredCount: 0,
      minimumHealthyPercent: 100,
      maximumPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
    });
  });

  it('starts the count the release sets, not the template 0, and refuses a definition without one', () => {
    // Prepare
    const definition = releaseDefinitionFromAssembly();
    const deploy = definition.States.DeployService as { Parameters: Record<string, unknown> };
    const without = structuredClone(definition);
    delete (without.States.DeployService as { Parameters: Record<string, unknown> }).Parameters
      .desiredCount;
    // Act
    const count = releaseDesiredCount(definition);
    // Assess
    expect(deploy.Parameters.desiredCount).toBe('2');
    expect(count).toBe(2);
    expect(() => releaseDesiredCount(without)).toThrow(/sets no desiredCount/);
  }, 120_000);

  it.each([
    [{ stack: { Resources: {} } }, /holds an ECS service/],
    [
      {
        stack: {
          Resources: { S: { Type: 'AWS::ECS::Service', Properties: { TaskDefinition: 'arn:x' } } },
        },
      },
      /names no task definition/,
    ],
  ])('refuses templates without a service behind a target group (%#)', (templates, message) => {
    // Act
    const act = () => applicationFromTemplates(templates);

    // Assess
    expect(act).toThrow(message);
  });
});

describe('accessPointsFromTemplate', () => {
  it('reads the uploads access point with the ids the task definition resolves to', () => {
    // Prepare
    const app = synthesizedApplication();

    // Act
    const [ap, ...more] = accessPointsFromTemplate(app);
    const td = taskDefinitionRegistration(app, LOCAL, IMAGE);
    const efs = td.volumes?.find((v) => v.efsVolumeConfiguration)?.efsVolumeConfiguration;

    // Assess
    expect(more).toEqual([]);
    expect(ap).toMatchObject({
      posixUser: { uid: 33, gid: 33 },
      creationInfo: { uid: 33, gid: 33, mode: 0o755 },
      path: '/uploads',
    });
    expect(efs?.authorizationConfig?.accessPointId).toBe(ap?.accessPointId);
    expect(efs?.fileSystemId).toBe(ap?.fileSystemId);
  });
});

describe('cfnToSdk', () => {
  it.each([
    [{ ContainerDefinitions: [{ Name: 'a' }] }, { containerDefinitions: [{ name: 'a' }] }],
    [
      {
        Volumes: [
          {
            Name: 'u',
            EFSVolumeConfiguration: { FilesystemId: 'fs', AuthorizationConfig: { IAM: 'ENABLED' } },
          },
        ],
      },
      {
        volumes: [
          {
            name: 'u',
            efsVolumeConfiguration: { fileSystemId: 'fs', authorizationConfig: { iam: 'ENABLED' } },
          },
        ],
      },
    ],
    [
      {
        DockerLabels: { 'com.Example': 'x' },
        LogConfiguration: { LogDriver: 'awslogs', Options: { 'awslogs-group': 'g' } },
      },
      {
        dockerLabels: { 'com.Example': 'x' },
        logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': 'g' } },
      },
    ],
  ])('converts %j', (cfn, sdk) => {
    // Act / Assess
    expect(cfnToSdk(cfn)).toEqual(sdk);
  });
});

describe('taskDefinitionRegistration (revision 1 is the synthesized task definition)', () => {
  it('keeps every field of the template, swaps the image, resolves the endpoints to the local stack', () => {
    // Prepare
    const app = synthesizedApplication();

    // Act
    const td = taskDefinitionRegistration(app, LOCAL, IMAGE);
    const [c] = td.containerDefinitions ?? [];

    // Assess
    expect(td).toMatchObject({
      family: 'stepdeploy-wordpress',
      cpu: '512',
      memory: '1024',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      runtimePlatform: { cpuArchitecture: 'X86_64', operatingSystemFamily: 'LINUX' },
      volumes: [{ name: 'tmp' }, { name: 'run' }, { name: 'uploads' }],
    });
    expect(c).toMatchObject({
      name: 'wordpress',
      image: IMAGE.uri,
      user: '33:33',
      readonlyRootFilesystem: true,
      essential: true,
      stopTimeout: 30,
      portMappings: [{ containerPort: 8080, protocol: 'tcp' }],
      healthCheck: {
        command: ['CMD-SHELL', 'curl -fsS http://127.0.0.1:8080/healthz || exit 1'],
        interval: 10,
        timeout: 5,
        retries: 3,
        startPeriod: 30,
      },
      mountPoints: [
        { sourceVolume: 'tmp', containerPath: '/tmp' },
        { sourceVolume: 'run', containerPath: '/run' },
        { sourceVolume: 'uploads', containerPath: '/var/lib/wordpress/wp-content/uploads' },
      ],
      logConfiguration: { logDriver: 'awslogs' },
    });
    expect(Object.fromEntries((c?.environment ?? []).map((e) => [e.name, e.value]))).toEqual({
      PORT: '8080',
      WORDPRESS_DB_HOST: '127.0.0.1:13306',
      WORDPRESS_DB_NAME: 'wordpress',
      WORDPRESS_SITE_URL: 'http://127.0.0.1:8080',
    });
    expect(fargateProblems(td)).toEqual([]);
  });

  it('maps each secret key to the local file that plays it, never to a value', () => {
    // Act
    const td = taskDefinitionRegistration(synthesizedApplication(), LOCAL, IMAGE);
    const secrets = Object.fromEntries(
      (td.containerDefinitions?.[0]?.secrets ?? []).map((s) => [s.name, s.valueFrom]),
    );

    // Assess
    expect(secrets).toEqual({
      WORDPRESS_DB_USER: '/state/secrets/db-username',
      WORDPRESS_DB_PASSWORD: '/state/secrets/db-password',
      WORDPRESS_AUTH_KEY: '/state/secrets/stepdeploy_wordpress-salts-AUTH_KEY',
      WORDPRESS_SECURE_AUTH_KEY: '/state/secrets/stepdeploy_wordpress-salts-SECURE_AUTH_KEY',
      WORDPRESS_LOGGED_IN_KEY: '/state/secrets/stepdeploy_wordpress-salts-LOGGED_IN_KEY',
      WORDPRESS_NONCE_KEY: '/state/secrets/stepdeploy_wordpress-salts-NONCE_KEY',
      WORDPRESS_AUTH_SALT: '/state/secrets/stepdeploy_wordpress-salts-AUTH_SALT',
      WORDPRESS_SECURE_AUTH_SALT: '/state/secrets/stepdeploy_wordpress-salts-SECURE_AUTH_SALT',
      WORDPRESS_LOGGED_IN_SALT: '/state/secrets/stepdeploy_wordpress-salts-LOGGED_IN_SALT',
      WORDPRESS_NONCE_SALT: '/state/secrets/stepdeploy_wordpress-salts-NONCE_SALT',
      // The generated admin login (no fixed name: the logical id names its file).
      WORDPRESS_ADMIN_PASSWORD: expect.stringMatching(
        /^\/state\/secrets\/AdminPassword[0-9A-F]{8}-password$/,
      ),
    });
    expect(adminPasswordFileOf(td)).toBe(secrets.WORDPRESS_ADMIN_PASSWORD);
  });

  const container = (secrets: unknown[], environment: unknown[] = []) => ({
    ContainerDefinitions: [
      { Name: 'wordpress', Image: 'x', Secrets: secrets, Environment: environment },
    ],
  });
  it.each([
    {
      name: 'a literal Secrets Manager ARN (no secret of the stack)',
      td: container([
        { Name: 'P', ValueFrom: 'arn:aws:secretsmanager:us-east-1:1:secret:x:password::' },
      ]),
      extra: {},
      message: /secret P comes from arn:aws:secretsmanager.*no Secrets Manager secret of the stack/,
    },
    {
      name: 'a whole secret without a JSON key',
      td: container([{ Name: 'P', ValueFrom: { Ref: 'Sec' } }]),
      extra: { Sec: { Type: 'AWS::SecretsManager::Secret', Properties: { Name: 'app/s' } } },
      message: /secret P must name one JSON key of app\/s/,
    },
    {
      name: 'a key with no local file',
      td: container([{ Name: 'P', ValueFrom: { 'Fn::Join': ['', [{ Ref: 'Sec' }, ':host::']] } }]),
      extra: { Sec: { Type: 'AWS::SecretsManager::Secret', Properties: { Name: 'app/s' } } },
      message: /key host of app\/s has no local secret file/,
    },
    {
      name: 'an environment value naming an AWS endpoint',
      td: container([], [{ Name: 'API', Value: 'https://sqs.us-east-1.amazonaws.com/1/q' }]),
      extra: {},
      message: /environment API=.* names an AWS resource with no local equivalent/,
    },
  ])('refuses $name', ({ td, extra, message }) => {
    // Prepare
    const app = smallApplication({
      taskDefinition: td,
      extra: extra as Record<string, { Type: string; Properties?: Record<string, unknown> }>,
    });
    const local = {
      ...LOCAL,
      secretFile: (_s: unknown, key: string) => (key === 'host' ? undefined : `/s/${key}`),
    };

    // Act
    const act = () => taskDefinitionRegistration(app, local, IMAGE);

    // Assess
    expect(act).toThrow(ApplicationTemplateError);
    expect(act).toThrow(message);
  });
});

describe('initialTaskDefinition (bootstrap)', () => {
  it('points the database secret at the database files and the salts at generated files', () => {
    // Prepare
    const stack = {
      config: { stateDir: '/st', service: 'blog' },
      database: {
        name: 'blog-db',
        host: '127.0.0.1',
        port: 23306,
        passwordFile: '/st/secrets/blog-db-password',
      },
      loadBalancer: { url: 'http://127.0.0.1:28080' },
      application: synthesizedApplication(),
    } as never;

    // Act
    const td = initialTaskDefinition(stack, IMAGE.uri);
    const c = td.containerDefinitions?.[0];
    const secret = (name: string) => c?.secrets?.find((s) => s.name === name)?.valueFrom;

    // Assess
    expect(td.family).toBe('stepdeploy-blog');
    expect(c?.environment).toContainEqual({ name: 'WORDPRESS_DB_HOST', value: '127.0.0.1:23306' });
    expect(c?.environment).toContainEqual({
      name: 'WORDPRESS_SITE_URL',
      value: 'http://127.0.0.1:28080',
    });
    expect(secret('WORDPRESS_DB_PASSWORD')).toBe('/st/secrets/blog-db-password');
    expect(secret('WORDPRESS_DB_USER')).toBe(
      siteSecretPaths('/st', 'blog').databaseUser('blog-db'),
    );
    expect(secret('WORDPRESS_NONCE_SALT')).toBe('/st/secrets/blog-wordpress-salts-nonce-salt');
  });
});

describe('haproxyBalance', () => {
  it.each([
    { algorithm: undefined, balance: 'roundrobin' },
    { algorithm: 'round_robin', balance: 'roundrobin' },
    { algorithm: 'least_outstanding_requests', balance: 'leastconn' },
    { algorithm: 'weighted_random', balance: 'random' },
  ])('$algorithm → $balance', ({ algorithm, balance }) => {
    // Prepare: the table row. Act / Assess
    expect(haproxyBalance(algorithm)).toBe(balance);
  });

  it('refuses an algorithm it does not know, naming the ones it does', () => {
    // Act / Assess
    expect(() => haproxyBalance('fastest')).toThrow(
      'load_balancing.algorithm.type must be one of round_robin, least_outstanding_requests, weighted_random, got fastest',
    );
  });
});
