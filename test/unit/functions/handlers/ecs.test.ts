import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from './context.ts';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});

const { handler: register } = await import('#functions/register-task-definition/handler.ts');
const { handler: deploy } = await import('#functions/deploy-service/handler.ts');
const { handler: check } = await import('#functions/check-health/handler.ts');

const ecs = mockClient(ECSClient);
const elb = mockClient(ElasticLoadBalancingV2Client);
const CLUSTER = 'arn:aws:ecs:us-east-1:123456789012:cluster/sd';
const TD7 = 'arn:aws:ecs:us-east-1:123456789012:task-definition/sd-wordpress:7';
const TD8 = 'arn:aws:ecs:us-east-1:123456789012:task-definition/sd-wordpress:8';
const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/sd/0123456789abcdef';
const DIGEST = `sha256:${'d'.repeat(64)}`;
const SECRET_REF = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:sd-db-AbCdEf:password::';

beforeEach(() => {
  ecs.reset();
  elb.reset();
});

describe('RegisterTaskDefinition handler', () => {
  it("clones the service's current revision with the image pinned by digest and returns only ARNs", async () => {
    // Prepare
    ecs.on(DescribeServicesCommand).resolves({
      services: [{ serviceName: 'sd-wordpress', status: 'ACTIVE', taskDefinition: TD7 }],
      failures: [],
    });
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: {
        taskDefinitionArn: TD7,
        family: 'sd-wordpress',
        revision: 7,
        status: 'ACTIVE',
        compatibilities: ['EC2', 'FARGATE'],
        requiresAttributes: [{ name: 'ecs.capability.secrets.asm.environment-variables' }],
        registeredAt: new Date('2026-01-01T00:00:00Z'),
        registeredBy: 'arn:aws:iam::123456789012:root',
        containerDefinitions: [
          {
            name: 'wordpress',
            image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/sd:old',
            secrets: [{ name: 'WORDPRESS_DB_PASSWORD', valueFrom: SECRET_REF }],
          },
        ],
      },
      tags: [],
    });
    ecs.on(RegisterTaskDefinitionCommand).resolves({
      taskDefinition: { taskDefinitionArn: TD8, family: 'sd-wordpress', revision: 8 },
    });
    // Act
    const out = await register(
      {
        cluster: CLUSTER,
        service: 'sd-wordpress',
        containerName: 'wordpress',
        imageUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/sd:abc',
        imageDigest: DIGEST,
      },
      lambdaContext('RegisterTaskDefinition'),
    );
    // Assess
    expect(ecs).toHaveReceivedCommandWith(DescribeTaskDefinitionCommand, {
      taskDefinition: TD7,
      include: ['TAGS'],
    });
    const input = ecs.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input;
    expect(input?.containerDefinitions?.[0]?.image).toBe(
      `123456789012.dkr.ecr.us-east-1.amazonaws.com/sd@${DIGEST}`,
    );
    expect(input?.containerDefinitions?.[0]?.secrets).toEqual([
      { name: 'WORDPRESS_DB_PASSWORD', valueFrom: SECRET_REF },
    ]);
    expect(input).not.toHaveProperty('compatibilities');
    expect(input).not.toHaveProperty('tags');
    expect(out).toEqual({
      taskDefinitionArn: TD8,
      previousTaskDefinitionArn: TD7,
      family: 'sd-wordpress',
      revision: 8,
      image: `123456789012.dkr.ecr.us-east-1.amazonaws.com/sd@${DIGEST}`,
    });
    expect(JSON.stringify(out)).not.toContain('secretsmanager');
  });

  it('fails with the ECS failure reason when the service is missing', async () => {
    // Prepare
    ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [], failures: [{ arn: 'arn:x', reason: 'MISSING' }] });
    // Act
    const act = register(
      {
        cluster: CLUSTER,
        service: 'sd-wordpress',
        containerName: 'wordpress',
        imageUri: 'r/sd:abc',
        imageDigest: DIGEST,
      },
      lambdaContext('RegisterTaskDefinition'),
    );
    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'TaskDefinitionError',
      message: expect.stringContaining('MISSING'),
    });
    expect(ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
  });
});

describe('DeployService handler', () => {
  it('updates the service and returns the PRIMARY deployment of the revision', async () => {
    // Prepare
    const createdAt = new Date(Date.now() - 1000);
    ecs.on(UpdateServiceCommand).resolves({
      service: {
        serviceName: 'sd-wordpress',
        deployments: [
          { id: 'ecs-svc/222', status: 'PRIMARY', taskDefinition: TD8, createdAt },
          { id: 'ecs-svc/111', status: 'ACTIVE', taskDefinition: TD7, rolloutState: 'COMPLETED' },
        ],
      },
    });
    const before = Date.now();
    // Act
    const out = await deploy(
      { cluster: CLUSTER, service: 'sd-wordpress', taskDefinitionArn: TD8 },
      lambdaContext('DeployService'),
    );
    // Assess: the gate's clock starts now, not at the deployment's creation a second ago
    expect(out.deploymentId).toBe('ecs-svc/222');
    expect(Date.parse(out.startedAt)).toBeGreaterThanOrEqual(before);
  });

  it('an existing PRIMARY deployment of the revision starts the gate clock now, not at its creation', async () => {
    // Prepare
    ecs.on(UpdateServiceCommand).resolves({
      service: {
        serviceName: 'sd-wordpress',
        deployments: [
          {
            id: 'ecs-svc/222',
            status: 'PRIMARY',
            taskDefinition: TD8,
            rolloutState: 'IN_PROGRESS',
            createdAt: new Date('2026-01-01T10:00:00Z'),
          },
          { id: 'ecs-svc/111', status: 'ACTIVE', taskDefinition: TD7, rolloutState: 'COMPLETED' },
        ],
      },
    });
    // Act
    const out = await deploy(
      { cluster: CLUSTER, service: 'sd-wordpress', taskDefinitionArn: TD8 },
      lambdaContext('DeployService'),
    );
    // Assess
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, {
      cluster: CLUSTER,
      service: 'sd-wordpress',
      taskDefinition: TD8,
    });
    expect(out).toMatchObject({ deploymentId: 'ecs-svc/222', taskDefinitionArn: TD8 });
    expect(Date.parse(out.startedAt)).toBeGreaterThan(Date.parse('2026-01-01T10:00:00Z'));
  });

  it('sets the desired count the ASL passes as a string (DesiredCount substitution), refuses a bad one', async () => {
    // Prepare: the service was created with 0 tasks; the release starts them.
    ecs.on(UpdateServiceCommand).resolves({
      service: {
        serviceName: 'sd-wordpress',
        deployments: [{ id: 'ecs-svc/333', status: 'PRIMARY', taskDefinition: TD8 }],
      },
    });
    // Act
    await deploy(
      {
        cluster: CLUSTER,
        service: 'sd-wordpress',
        taskDefinitionArn: TD8,
        desiredCount: '2',
      } as never,
      lambdaContext('DeployService'),
    );
    const bad = deploy(
      {
        cluster: CLUSTER,
        service: 'sd-wordpress',
        taskDefinitionArn: TD8,
        desiredCount: 'two',
      } as never,
      lambdaContext('DeployService'),
    );
    // Assess
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, {
      taskDefinition: TD8,
      desiredCount: 2,
    });
    await expect(bad).rejects.toThrow(/parse/);
    expect(ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
  });

  it('names a throttled UpdateService TransientAwsError', async () => {
    // Prepare
    ecs.on(UpdateServiceCommand).rejects(
      Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    // Act
    const act = deploy(
      { cluster: CLUSTER, service: 'sd-wordpress', taskDefinitionArn: TD8 },
      lambdaContext('DeployService'),
    );
    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'TransientAwsError',
      message: expect.stringContaining('ThrottlingException'),
    });
  });
});

describe('CheckHealth handler', () => {
  const event = {
    cluster: CLUSTER,
    service: 'sd-wordpress',
    targetGroupArn: TG,
    taskDefinitionArn: TD8,
    deploymentId: 'ecs-svc/222',
    startedAt: new Date(Date.now() - 60_000).toISOString(),
    policy: { timeoutSeconds: 900, maxUnhealthyPolls: 3, requiredHealthyPolls: 1 },
    progress: { polls: 0, unhealthyPolls: 0, unhealthyStreak: 0, healthyStreak: 0 },
  };
  const eni = (ip: string) => [
    {
      type: 'ElasticNetworkInterface',
      status: 'ATTACHED',
      details: [{ name: 'privateIPv4Address', value: ip }],
    },
  ];
  // The template's target group as ELBv2 describes it.
  beforeEach(() => {
    elb.on(DescribeTargetGroupsCommand).resolves({
      TargetGroups: [
        {
          TargetGroupArn: TG,
          TargetGroupName: 'sd',
          Protocol: 'HTTP',
          Port: 8080,
          TargetType: 'ip',
          HealthCheckPath: '/healthz',
          HealthCheckIntervalSeconds: 10,
          HealthCheckTimeoutSeconds: 5,
          HealthyThresholdCount: 2,
          UnhealthyThresholdCount: 2,
          Matcher: { HttpCode: '200' },
        },
      ],
    });
    elb.on(DescribeTargetGroupAttributesCommand).resolves({
      Attributes: [
        { Key: 'deregistration_delay.timeout_seconds', Value: '20' },
        { Key: 'slow_start.duration_seconds', Value: '30' },
        { Key: 'stickiness.enabled', Value: 'false' },
      ],
    });
  });

  it('reports HEALTHY from ECS deployments, tasks (all pages) and target health', async () => {
    // Prepare
    ecs.on(DescribeServicesCommand).resolves({
      services: [
        {
          deployments: [
            {
              id: 'ecs-svc/222',
              status: 'PRIMARY',
              taskDefinition: TD8,
              desiredCount: 1,
              runningCount: 1,
              rolloutState: 'COMPLETED',
            },
          ],
        },
      ],
    });
    ecs
      .on(ListTasksCommand, { desiredStatus: 'RUNNING' })
      .resolvesOnce({ taskArns: ['arn:t/1'], nextToken: 'p2' })
      .resolvesOnce({ taskArns: ['arn:t/old'] });
    ecs.on(ListTasksCommand, { desiredStatus: 'STOPPED' }).resolves({ taskArns: [] });
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        {
          taskArn: 'arn:t/1',
          taskDefinitionArn: TD8,
          lastStatus: 'RUNNING',
          attachments: eni('10.0.1.5'),
        },
        {
          taskArn: 'arn:t/old',
          taskDefinitionArn: TD7,
          lastStatus: 'DEACTIVATING',
          attachments: eni('10.0.1.6'),
        },
      ],
    });
    elb.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        {
          Target: { Id: '10.0.1.5', Port: 8080 },
          HealthCheckPort: '8080',
          TargetHealth: { State: 'healthy' },
        },
        {
          Target: { Id: '10.0.1.6', Port: 8080 },
          HealthCheckPort: '8080',
          TargetHealth: {
            State: 'draining',
            Reason: 'Target.DeregistrationInProgress',
            Description: 'Target deregistration is in progress',
          },
        },
      ],
    });
    // Act
    const verdict = await check(event, lambdaContext('CheckHealth'));
    // Assess
    expect(verdict.status).toBe('HEALTHY');
    expect(ecs).toHaveReceivedCommandTimes(ListTasksCommand, 3);
    expect(ecs).toHaveReceivedCommandWith(DescribeTasksCommand, {
      cluster: CLUSTER,
      tasks: ['arn:t/1', 'arn:t/old'],
    });
    expect(elb).toHaveReceivedCommandWith(DescribeTargetHealthCommand, { TargetGroupArn: TG });
  });

  it('paces the next poll by the target group in force: one interval while the old tasks drain', async () => {
    // Prepare
    ecs.on(DescribeServicesCommand).resolves({
      services: [
        {
          deployments: [
            {
              id: 'ecs-svc/222',
              status: 'PRIMARY',
              taskDefinition: TD8,
              desiredCount: 1,
              runningCount: 1,
              rolloutState: 'IN_PROGRESS',
            },
          ],
        },
      ],
    });
    ecs.on(ListTasksCommand, { desiredStatus: 'RUNNING' }).resolves({ taskArns: ['arn:t/1'] });
    ecs.on(ListTasksCommand, { desiredStatus: 'STOPPED' }).resolves({ taskArns: [] });
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        {
          taskArn: 'arn:t/1',
          taskDefinitionArn: TD8,
          lastStatus: 'RUNNING',
          attachments: eni('10.0.1.5'),
        },
      ],
    });
    elb.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        { Target: { Id: '10.0.1.5', Port: 8080 }, TargetHealth: { State: 'healthy' } },
      ],
    });
    // Act
    const verdict = await check(
      { ...event, policy: { ...event.policy, maxPollSeconds: 15 } },
      lambdaContext('CheckHealth'),
    );
    // Assess
    expect(verdict).toMatchObject({
      status: 'IN_PROGRESS',
      phase: 'draining',
      nextPollSeconds: 10,
    });
    expect(elb).toHaveReceivedCommandWith(DescribeTargetGroupsCommand, { TargetGroupArns: [TG] });
    expect(elb).toHaveReceivedCommandWith(DescribeTargetGroupAttributesCommand, {
      TargetGroupArn: TG,
    });
  });

  it('reports FAILED at the failed-task threshold with the stopped reason and exit code', async () => {
    // Prepare
    ecs.on(DescribeServicesCommand).resolves({
      services: [
        {
          deployments: [
            {
              id: 'ecs-svc/222',
              status: 'PRIMARY',
              taskDefinition: TD8,
              desiredCount: 1,
              // ECS counts the deployment's consecutively failed tasks (the circuit breaker's count).
              failedTasks: 2,
              rolloutState: 'IN_PROGRESS',
            },
          ],
        },
      ],
    });
    ecs.on(ListTasksCommand, { desiredStatus: 'RUNNING' }).resolves({ taskArns: [] });
    ecs.on(ListTasksCommand, { desiredStatus: 'STOPPED' }).resolves({ taskArns: ['arn:t/9'] });
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        {
          taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/sd/9f1e',
          taskDefinitionArn: TD8,
          lastStatus: 'STOPPED',
          stopCode: 'EssentialContainerExited',
          stoppedReason: 'Essential container in task exited',
          stoppedAt: new Date(),
          containers: [
            { name: 'wordpress', exitCode: 78, reason: undefined, lastStatus: 'STOPPED' },
          ],
        },
      ],
    });
    elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
    // Act
    const verdict = await check(event, lambdaContext('CheckHealth'));
    // Assess
    expect(verdict.status).toBe('FAILED');
    expect(verdict.reason).toMatch(
      /^2 task\(s\) of \S+ failed \(threshold 2\): task 9f1e stopped \[EssentialContainerExited\]: Essential container in task exited; container wordpress exited 78 \(no healthy target is serving\)$/,
    );
  });
});
