import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TaskDefinitionError } from '#commons/errors.ts';
import {
  describeService,
  parseTaskDefinitionRef,
  SecretInEnvironmentError,
  TaskDefinitionNotFoundError,
  TaskDefinitionStore,
  updateService,
} from '#local/task-definitions.ts';

const input = (image: string): RegisterTaskDefinitionCommandInput => ({
  family: 'stepdeploy-wordpress',
  networkMode: 'awsvpc',
  requiresCompatibilities: ['FARGATE'],
  cpu: '0.5 vCPU',
  memory: '1 GB',
  containerDefinitions: [
    {
      name: 'wordpress',
      image,
      environment: [{ name: 'WORDPRESS_DB_HOST', value: '127.0.0.1:13306' }],
      secrets: [{ name: 'WORDPRESS_DB_PASSWORD', valueFrom: '/state/secrets/db-password' }],
      portMappings: [{ containerPort: 18000 }],
    },
  ],
});

describe('TaskDefinitionStore', () => {
  let dir: string;
  let store: TaskDefinitionStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sd-td-'));
    store = new TaskDefinitionStore(dir);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('registers increasing revisions with local ARNs and describes them by ARN', async () => {
    // Act
    const [a, b] = await Promise.all([
      store.register(input('img@sha256:1')),
      store.register(input('img@sha256:2')),
    ]);
    const described = await store.describe('arn:local:ecs:task-definition/stepdeploy-wordpress:2');

    // Assess
    expect([a?.revision, b?.revision].sort()).toEqual([1, 2]);
    expect(described.taskDefinitionArn).toBe(
      'arn:local:ecs:task-definition/stepdeploy-wordpress:2',
    );
    expect(described.registeredAt).toBeInstanceOf(Date);
    expect(described).toMatchObject({ cpu: '512', memory: '1024', status: 'ACTIVE' });
    expect(await store.list('stepdeploy-wordpress')).toEqual([
      'arn:local:ecs:task-definition/stepdeploy-wordpress:1',
      'arn:local:ecs:task-definition/stepdeploy-wordpress:2',
    ]);
  });

  it('refuses secrets in the environment before storing anything', async () => {
    // Prepare
    const leaky = input('img');
    leaky.containerDefinitions?.[0]?.environment?.push({ name: 'WORDPRESS_AUTH_KEY', value: 'x' });

    // Act
    const result = store.register(leaky);

    // Assess
    await expect(result).rejects.toBeInstanceOf(SecretInEnvironmentError);
    expect(await store.revisions('stepdeploy-wordpress')).toEqual([]);
  });

  it.each([
    [{ networkMode: 'bridge' }, /networkMode: Fargate requires awsvpc, got bridge/],
    [
      { cpu: '256', memory: '4096' },
      /memory: Fargate has no 4096 MiB size for cpu 256 \(it takes 512, 1024, 2048\)/,
    ],
    [
      { volumes: [{ name: 'd', host: { sourcePath: '/srv' } }] },
      /volumes\[0\]\.host\.sourcePath: Fargate refuses host paths/,
    ],
  ])(
    'refuses %j like RegisterTaskDefinition would on Fargate, storing nothing',
    async (part, message) => {
      // Prepare
      const bad = { ...input('img'), ...part } as RegisterTaskDefinitionCommandInput;

      // Act
      const result = store.register(bad);

      // Assess
      await expect(result).rejects.toThrow(TaskDefinitionError);
      await expect(result).rejects.toThrow(message);
      expect(await store.revisions('stepdeploy-wordpress')).toEqual([]);
    },
  );

  it('throws TaskDefinitionNotFoundError for an unknown revision', async () => {
    await expect(store.describe('stepdeploy-wordpress:7')).rejects.toBeInstanceOf(
      TaskDefinitionNotFoundError,
    );
  });

  it('keeps a service record of the current revision and desired count', async () => {
    // Act
    await updateService(dir, {
      serviceName: 'wordpress',
      taskDefinition: 'stepdeploy-wordpress:1',
      desiredCount: 2,
    });
    await updateService(dir, {
      serviceName: 'wordpress',
      taskDefinition: 'stepdeploy-wordpress:2',
    });

    // Assess
    expect(await describeService(dir, 'wordpress')).toMatchObject({
      taskDefinition: 'stepdeploy-wordpress:2',
      desiredCount: 2,
    });
  });
});

describe('parseTaskDefinitionRef', () => {
  it.each([
    ['arn:local:ecs:task-definition/fam:3', { family: 'fam', revision: 3 }],
    ['arn:aws:ecs:eu-west-1:123456789012:task-definition/fam:12', { family: 'fam', revision: 12 }],
    ['fam:1', { family: 'fam', revision: 1 }],
  ])('%s', (ref, want) => {
    expect(parseTaskDefinitionRef(ref)).toEqual(want);
  });

  it('refuses a reference without a revision', () => {
    expect(() => parseTaskDefinitionRef('fam')).toThrow(TaskDefinitionNotFoundError);
  });
});
