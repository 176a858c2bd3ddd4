import {
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from './context.ts';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});
const { handler } = await import('#functions/register-verification-task-definition/handler.ts');
const ecs = mockClient(ECSClient);

const LIVE = 'arn:aws:ecs:us-east-1:123456789012:task-definition/stepdeploy-wordpress:8';
const VERIFY = 'arn:aws:ecs:us-east-1:123456789012:task-definition/stepdeploy-wordpress-verify:3';
const IMAGE = `123456789012.dkr.ecr.us-east-1.amazonaws.com/stepdeploy/wordpress@sha256:${'c'.repeat(64)}`;
const event = {
  taskDefinitionArn: LIVE,
  containerName: 'wordpress',
  siteUrl: 'http://stepdeploy-verify.invalid',
};

beforeEach(() => ecs.reset());

describe('RegisterVerificationTaskDefinition handler', () => {
  it('registers the -verify twin of the live revision and returns both ARNs', async () => {
    // Prepare: DescribeTaskDefinition as ECS answers it, read-only fields included
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: {
        taskDefinitionArn: LIVE,
        family: 'stepdeploy-wordpress',
        revision: 8,
        status: 'ACTIVE',
        compatibilities: ['EC2', 'FARGATE'],
        requiresCompatibilities: ['FARGATE'],
        registeredAt: new Date('2026-02-01T10:00:00Z'),
        registeredBy: 'arn:aws:sts::123456789012:assumed-role/RegisterTaskDefinition/x',
        networkMode: 'awsvpc',
        cpu: '512',
        memory: '1024',
        taskRoleArn: 'arn:aws:iam::123456789012:role/task',
        executionRoleArn: 'arn:aws:iam::123456789012:role/execution',
        volumes: [
          {
            name: 'uploads',
            efsVolumeConfiguration: {
              fileSystemId: 'fs-0123456789abcdef0',
              transitEncryption: 'ENABLED',
              authorizationConfig: { accessPointId: 'fsap-0123456789abcdef0', iam: 'ENABLED' },
            },
          },
        ],
        containerDefinitions: [
          {
            name: 'wordpress',
            image: IMAGE,
            environment: [{ name: 'WORDPRESS_SITE_URL', value: 'https://www.example.org' }],
            mountPoints: [
              { sourceVolume: 'uploads', containerPath: '/var/lib/wordpress/wp-content/uploads' },
            ],
          },
        ],
      },
      tags: [],
    });
    ecs.on(RegisterTaskDefinitionCommand).resolves({
      taskDefinition: {
        taskDefinitionArn: VERIFY,
        family: 'stepdeploy-wordpress-verify',
        revision: 3,
      },
    });
    // Act
    const out = await handler(event, lambdaContext('RegisterVerificationTaskDefinition'));
    // Assess
    expect(out).toEqual({ taskDefinitionArn: VERIFY, sourceTaskDefinitionArn: LIVE });
    const sent = ecs.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input;
    expect(sent?.family).toBe('stepdeploy-wordpress-verify');
    expect(sent?.containerDefinitions?.[0]?.environment).toEqual([
      { name: 'WORDPRESS_SITE_URL', value: 'http://stepdeploy-verify.invalid' },
    ]);
    expect(JSON.stringify(sent)).not.toContain('fs-0123456789abcdef0');
  });

  it('names a registration that returned no ARN TaskDefinitionError', async () => {
    // Prepare
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: {
        taskDefinitionArn: LIVE,
        family: 'stepdeploy-wordpress',
        containerDefinitions: [{ name: 'wordpress', image: IMAGE }],
      },
    });
    ecs.on(RegisterTaskDefinitionCommand).resolves({});
    // Act
    const error = await handler(event, lambdaContext('RegisterVerificationTaskDefinition')).catch(
      (e: unknown) => e,
    );
    // Assess
    expect(error).toMatchObject({
      name: 'TaskDefinitionError',
      message: 'RegisterTaskDefinition returned no ARN for stepdeploy-wordpress-verify',
    });
  });

  it('refuses a site URL that is not a URL before any AWS call (ParseError)', async () => {
    // Prepare / Act
    const error = (await handler(
      { ...event, siteUrl: 'stepdeploy-verify.invalid' },
      lambdaContext('RegisterVerificationTaskDefinition'),
    ).catch((e: unknown) => e)) as Error & { cause?: unknown };
    // Assess
    expect(error.name).toBe('ParseError');
    expect(JSON.stringify(error.cause)).toMatch(/siteUrl/);
    expect(ecs.calls()).toHaveLength(0);
  });
});
