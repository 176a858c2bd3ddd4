import {
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { registerVerificationTaskDefinition } from '#functions/register-verification-task-definition/register-verification-task-definition.ts';

const LIVE = 'arn:aws:ecs:us-east-1:123456789012:task-definition/stepdeploy-wordpress:8';
const IMAGE = `123456789012.dkr.ecr.us-east-1.amazonaws.com/stepdeploy/wordpress@sha256:${'c'.repeat(64)}`;

describe('registerVerificationTaskDefinition (ECS I/O)', () => {
  it('registers the -verify twin of the running revision and returns its ARN', async () => {
    // Prepare: DescribeTaskDefinition as ECS answers it (read-only fields included)
    const ecs = mockClient(ECSClient);
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: {
        taskDefinitionArn: LIVE,
        family: 'stepdeploy-wordpress',
        revision: 8,
        status: 'ACTIVE',
        compatibilities: ['EC2', 'FARGATE'],
        requiresCompatibilities: ['FARGATE'],
        requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.docker-remote-api.1.18' }],
        registeredAt: new Date('2026-02-01T10:00:00Z'),
        registeredBy: 'arn:aws:sts::123456789012:assumed-role/RegisterTaskDefinition/x',
        networkMode: 'awsvpc',
        cpu: '512',
        memory: '1024',
        taskRoleArn: 'arn:aws:iam::123456789012:role/task',
        executionRoleArn: 'arn:aws:iam::123456789012:role/execution',
        volumes: [
          { name: 'tmp', host: {} },
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
            user: '33:33',
            readonlyRootFilesystem: true,
            environment: [
              { name: 'PORT', value: '8080' },
              { name: 'WORDPRESS_SITE_URL', value: 'https://www.example.org' },
            ],
            secrets: [
              {
                name: 'WORDPRESS_DB_PASSWORD',
                valueFrom:
                  'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf:password::',
              },
            ],
            mountPoints: [
              {
                sourceVolume: 'uploads',
                containerPath: '/var/lib/wordpress/wp-content/uploads',
                readOnly: false,
              },
            ],
          },
        ],
      },
    });
    ecs.on(RegisterTaskDefinitionCommand).resolves({
      taskDefinition: {
        taskDefinitionArn:
          'arn:aws:ecs:us-east-1:123456789012:task-definition/stepdeploy-wordpress-verify:3',
        family: 'stepdeploy-wordpress-verify',
        revision: 3,
      },
    });
    // Act
    const out = await registerVerificationTaskDefinition(new ECSClient({}), {
      taskDefinitionArn: LIVE,
      containerName: 'wordpress',
      siteUrl: 'http://stepdeploy-verify.invalid',
    });
    // Assess
    expect(out).toEqual({
      taskDefinitionArn:
        'arn:aws:ecs:us-east-1:123456789012:task-definition/stepdeploy-wordpress-verify:3',
      sourceTaskDefinitionArn: LIVE,
    });
    expect(ecs).toHaveReceivedCommandWith(DescribeTaskDefinitionCommand, { taskDefinition: LIVE });
    const sent = ecs.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input;
    expect(sent).toMatchObject({
      family: 'stepdeploy-wordpress-verify',
      volumes: [{ name: 'tmp' }, { name: 'uploads' }],
      taskRoleArn: 'arn:aws:iam::123456789012:role/task',
      executionRoleArn: 'arn:aws:iam::123456789012:role/execution',
    });
    expect(sent?.containerDefinitions?.[0]?.environment).toEqual([
      { name: 'PORT', value: '8080' },
      { name: 'WORDPRESS_SITE_URL', value: 'http://stepdeploy-verify.invalid' },
    ]);
    expect(sent).not.toHaveProperty('revision');
    expect(sent).not.toHaveProperty('registeredAt');
    expect(JSON.stringify(sent)).not.toContain('fs-0123456789abcdef0');
  });
});
