import type { DescribeTaskDefinitionCommandOutput } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { TaskDefinitionError } from '#commons/errors.ts';
import { cloneTaskDefinition, pinImage } from '#commons/task-definition.ts';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const IMAGE = `123456789012.dkr.ecr.us-east-1.amazonaws.com/sd-wordpress@${DIGEST}`;

const described = (): Pick<DescribeTaskDefinitionCommandOutput, 'taskDefinition' | 'tags'> => ({
  taskDefinition: {
    taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/sd-wordpress:7',
    family: 'sd-wordpress',
    revision: 7,
    status: 'ACTIVE',
    taskRoleArn: 'arn:aws:iam::123456789012:role/task',
    executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
    networkMode: 'awsvpc',
    cpu: '512',
    memory: '1024',
    requiresCompatibilities: ['FARGATE'],
    compatibilities: ['EC2', 'FARGATE'],
    requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.logging-driver.awslogs' }],
    registeredAt: new Date('2026-01-01T00:00:00Z'),
    registeredBy: 'arn:aws:sts::123456789012:assumed-role/deployer/x',
    runtimePlatform: { cpuArchitecture: 'X86_64', operatingSystemFamily: 'LINUX' },
    containerDefinitions: [
      {
        name: 'wordpress',
        image: `123456789012.dkr.ecr.us-east-1.amazonaws.com/sd-wordpress@sha256:${'00'.repeat(32)}`,
        essential: true,
        environment: [{ name: 'WORDPRESS_DB_HOST', value: 'db:3306' }],
        secrets: [
          {
            name: 'WORDPRESS_DB_PASSWORD',
            valueFrom: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf:password::',
          },
        ],
      },
      {
        name: 'log-router',
        image: 'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable',
        essential: false,
      },
    ],
  },
  tags: [{ key: 'app', value: 'wordpress' }],
});

describe('cloneTaskDefinition', () => {
  it('strips every read-only field, swaps only the named container image and keeps secret references', () => {
    // Prepare
    const current = described();
    // Act
    const input = cloneTaskDefinition(current, 'wordpress', IMAGE);
    // Assess
    for (const field of [
      'taskDefinitionArn',
      'revision',
      'status',
      'requiresAttributes',
      'compatibilities',
      'registeredAt',
      'registeredBy',
      'deregisteredAt',
    ]) {
      expect(input).not.toHaveProperty(field);
    }
    expect(input.family).toBe('sd-wordpress');
    expect(input.containerDefinitions?.[0]?.image).toBe(IMAGE);
    expect(input.containerDefinitions?.[1]?.image).toBe(
      'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable',
    );
    expect(input.containerDefinitions?.[0]?.secrets).toEqual(
      current.taskDefinition?.containerDefinitions?.[0]?.secrets,
    );
    expect(input.tags).toEqual([{ key: 'app', value: 'wordpress' }]);
    expect(input.runtimePlatform).toEqual({
      cpuArchitecture: 'X86_64',
      operatingSystemFamily: 'LINUX',
    });
  });

  const refusals: Array<{
    name: string;
    mutate: (d: ReturnType<typeof described>) => void;
    container?: string;
    image?: string;
    message: RegExp;
  }> = [
    {
      name: 'unknown container',
      mutate: () => undefined,
      container: 'php',
      message: /container "php" not found in sd-wordpress \(has: wordpress, log-router\)/,
    },
    {
      name: 'tag instead of digest',
      mutate: () => undefined,
      image: 'repo/sd-wordpress:latest',
      message: /pinned by digest/,
    },
    {
      name: 'secret as plain environment variable',
      mutate: (d) => {
        d.taskDefinition?.containerDefinitions?.[0]?.environment?.push({
          name: 'WORDPRESS_AUTH_KEY',
          value: 'x',
        });
      },
      message: /WORDPRESS_AUTH_KEY as a plain environment variable/,
    },
    {
      name: 'no family',
      mutate: (d) => {
        if (d.taskDefinition) d.taskDefinition.family = undefined;
      },
      message: /no family/,
    },
  ];
  it.each(refusals)('refuses $name', ({ mutate, container, image, message }) => {
    // Prepare
    const current = described();
    mutate(current);
    // Act
    const act = () => cloneTaskDefinition(current, container ?? 'wordpress', image ?? IMAGE);
    // Assess
    expect(act).toThrow(TaskDefinitionError);
    expect(act).toThrow(message);
  });
});

describe('pinImage', () => {
  it.each([
    ['repo.example/sd-wordpress:abc123', 'repo.example/sd-wordpress'],
    ['127.0.0.1:5000/sd-wordpress:rev-1', '127.0.0.1:5000/sd-wordpress'],
    ['127.0.0.1:5000/sd-wordpress', '127.0.0.1:5000/sd-wordpress'],
    [`repo.example/sd-wordpress@sha256:${'11'.repeat(32)}`, 'repo.example/sd-wordpress'],
  ])('%s pins to %s@digest', (uri, repository) => {
    // Prepare / Act
    const pinned = pinImage(uri, DIGEST);
    // Assess
    expect(pinned).toBe(`${repository}@${DIGEST}`);
  });

  it('refuses a malformed digest', () => {
    // Prepare / Act / Assess
    expect(() => pinImage('repo:tag', 'latest')).toThrow(/sha256:<64 hex>/);
  });
});
