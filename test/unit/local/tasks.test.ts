import type { TaskDefinition } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import type { ContainerInspect } from '#local/docker.ts';
import {
  choosePort,
  runInputFromTaskDefinition,
  taskFromInspect,
  toEcsTask,
} from '#local/tasks.ts';

const NEVER = '0001-01-01T00:00:00Z';

function inspect(state: Partial<ContainerInspect['State']>): ContainerInspect {
  return {
    Id: 'a'.repeat(64),
    Name: '/stepdeploy-wordpress-r3-abc123',
    Created: '2026-01-01T00:00:00Z',
    Image: 'sha256:1',
    Config: {
      Image: '127.0.0.1:5000/wordpress@sha256:2',
      Env: [],
      Labels: {
        'stepdeploy.managed': 'true',
        'stepdeploy.service': 'wordpress',
        'stepdeploy.revision': '3',
        'stepdeploy.release': 'rel-1',
        'stepdeploy.role': 'task',
        'stepdeploy.port': '18000',
        'stepdeploy.task-definition': 'arn:local:ecs:task-definition/stepdeploy-wordpress:3',
        'stepdeploy.stop-timeout': '30',
        'stepdeploy.cpu': '512',
        'stepdeploy.memory': '1024',
      },
    },
    State: {
      Status: 'running',
      Running: true,
      ExitCode: 0,
      Error: '',
      OOMKilled: false,
      StartedAt: '2026-01-01T00:00:01Z',
      FinishedAt: NEVER,
      ...state,
    },
  };
}

describe('taskFromInspect', () => {
  const cases = [
    {
      name: 'a running container is RUNNING',
      state: {},
      stop: undefined,
      want: {
        lastStatus: 'RUNNING',
        desiredStatus: 'RUNNING',
        revision: 3,
        port: 18000,
        healthStatus: 'UNKNOWN',
        stopTimeoutSeconds: 30,
        cpu: '512',
        memory: '1024',
      },
    },
    {
      name: 'a passing container health check is HEALTHY',
      state: { Health: { Status: 'healthy' } },
      stop: undefined,
      want: { lastStatus: 'RUNNING', healthStatus: 'HEALTHY' },
    },
    {
      name: 'a failing container health check is UNHEALTHY',
      state: { Health: { Status: 'unhealthy' } },
      stop: undefined,
      want: { lastStatus: 'RUNNING', healthStatus: 'UNHEALTHY' },
    },
    {
      name: 'a health check still in its start period is UNKNOWN',
      state: { Health: { Status: 'starting' } },
      stop: undefined,
      want: { lastStatus: 'RUNNING', healthStatus: 'UNKNOWN' },
    },
    {
      name: 'a container we stopped is STOPPED with our reason',
      state: { Status: 'exited', Running: false, ExitCode: 0, FinishedAt: '2026-01-01T00:01:00Z' },
      stop: { reason: 'Scaling activity', at: '2026-01-01T00:00:59Z' },
      want: {
        lastStatus: 'STOPPED',
        stopCode: 'UserInitiated',
        stoppedReason: 'Scaling activity',
        exitCode: 0,
      },
    },
    {
      name: 'a container that exited on its own names the exit code',
      state: {
        Status: 'exited',
        Running: false,
        ExitCode: 255,
        FinishedAt: '2026-01-01T00:01:00Z',
      },
      stop: undefined,
      want: {
        lastStatus: 'STOPPED',
        stopCode: 'EssentialContainerExited',
        stoppedReason: 'Essential container in task exited (exit code 255)',
        exitCode: 255,
      },
    },
    {
      name: 'an OOM kill is reported as OutOfMemoryError',
      state: {
        Status: 'exited',
        Running: false,
        ExitCode: 137,
        OOMKilled: true,
        FinishedAt: '2026-01-01T00:01:00Z',
      },
      stop: undefined,
      want: {
        stoppedReason: 'OutOfMemoryError: Container killed due to memory usage',
        exitCode: 137,
      },
    },
    {
      name: 'a container that never started is TaskFailedToStart',
      state: {
        Status: 'created',
        Running: false,
        ExitCode: 127,
        Error: 'exec: "x": not found',
        StartedAt: NEVER,
      },
      stop: undefined,
      want: {
        lastStatus: 'STOPPED',
        stopCode: 'TaskFailedToStart',
        stoppedReason: 'CannotStartContainerError: exec: "x": not found',
      },
    },
  ] as const;

  it.each(cases)('$name', ({ state, stop, want }) => {
    // Act
    const task = taskFromInspect(inspect(state), stop);

    // Assess
    expect(task).toMatchObject(want);
  });
});

describe('taskFromInspect: CPU weight', () => {
  it.each([
    {
      name: 'a task started low reads its weight and the one it serves at',
      hostShares: 2,
      want: 2,
    },
    { name: "Docker's 0 (no weight set) reads as its default", hostShares: 0, want: 1024 },
  ])('$name', ({ hostShares, want }) => {
    // Prepare
    const c = inspect({});
    const labelled = {
      ...c,
      Config: {
        ...c.Config,
        Labels: { ...c.Config.Labels, 'stepdeploy.serving-cpu-shares': '1024' },
      },
      HostConfig: { CpuShares: hostShares },
    };

    // Act
    const task = taskFromInspect(labelled);

    // Assess
    expect(task).toMatchObject({ cpuShares: want, servingCpuShares: 1024 });
  });

  it('a container without the label has no weights to promote', () => {
    // Act / Assess
    expect(taskFromInspect(inspect({})).servingCpuShares).toBeUndefined();
  });
});

describe('toEcsTask', () => {
  it('reports the container health check as the task and container healthStatus', () => {
    // Prepare
    const local = taskFromInspect(inspect({ Health: { Status: 'unhealthy' } }));

    // Act
    const task = toEcsTask(local);

    // Assess
    expect(task).toMatchObject({
      lastStatus: 'RUNNING',
      healthStatus: 'UNHEALTHY',
      cpu: '512',
      memory: '1024',
      containers: [{ name: 'wordpress', healthStatus: 'UNHEALTHY' }],
    });
  });

  it("names the entrypoint's last words as the stopped container's reason", () => {
    // Prepare
    const local = taskFromInspect(
      inspect({
        Status: 'exited',
        Running: false,
        ExitCode: 73,
        FinishedAt: '2026-01-01T00:01:00Z',
      }),
      undefined,
      { lastLine: 'stepdeploy-entrypoint: cannot create /tmp/apache2' },
    );

    // Act
    const task = toEcsTask(local);

    // Assess
    expect(task).toMatchObject({
      lastStatus: 'STOPPED',
      healthStatus: 'UNKNOWN',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited (exit code 73)',
      containers: [{ exitCode: 73, reason: 'stepdeploy-entrypoint: cannot create /tmp/apache2' }],
    });
  });

  it('shapes a stopped task like ECS DescribeTasks', () => {
    // Prepare
    const local = taskFromInspect(
      inspect({
        Status: 'exited',
        Running: false,
        ExitCode: 3,
        FinishedAt: '2026-01-01T00:01:00Z',
      }),
    );

    // Act
    const task = toEcsTask(local);

    // Assess
    expect(task).toMatchObject({
      taskDefinitionArn: 'arn:local:ecs:task-definition/stepdeploy-wordpress:3',
      group: 'service:wordpress',
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited (exit code 3)',
      stoppedAt: new Date('2026-01-01T00:01:00Z'),
      containers: [
        {
          name: 'wordpress',
          lastStatus: 'STOPPED',
          exitCode: 3,
          networkBindings: [{ bindIP: '127.0.0.1', hostPort: 18000 }],
        },
      ],
    });
  });
});

const FARGATE = {
  networkMode: 'awsvpc',
  requiresCompatibilities: ['FARGATE'],
  cpu: '512',
  memory: '1024',
} as const satisfies TaskDefinition;

describe('runInputFromTaskDefinition', () => {
  it('carries the registered task definition for the runner to translate', () => {
    // Prepare
    const td: TaskDefinition = {
      ...FARGATE,
      requiresCompatibilities: ['FARGATE'],
      family: 'stepdeploy-wordpress',
      revision: 4,
      taskDefinitionArn: 'arn:local:ecs:task-definition/stepdeploy-wordpress:4',
      containerDefinitions: [
        {
          name: 'wordpress',
          image: '127.0.0.1:5000/wordpress@sha256:3',
          environment: [{ name: 'WORDPRESS_DB_HOST', value: '127.0.0.1:13306' }],
          secrets: [
            { name: 'WORDPRESS_DB_PASSWORD', valueFrom: '/state/secrets/wordpress-db-password' },
          ],
        },
      ],
    };

    // Act
    const input = runInputFromTaskDefinition(td, {
      stateDir: '/state',
      service: 'wordpress',
      releaseId: 'r9',
    });

    // Assess
    expect(input).toEqual({
      stateDir: '/state',
      service: 'wordpress',
      releaseId: 'r9',
      revision: 4,
      image: '127.0.0.1:5000/wordpress@sha256:3',
      taskDefinition: td,
      taskDefinitionArn: 'arn:local:ecs:task-definition/stepdeploy-wordpress:4',
    });
  });

  it.each([
    [
      'a secret that is not a local file path',
      { secrets: [{ name: 'P', valueFrom: 'arn:aws:secretsmanager:x' }] },
      {},
      /secrets\[0\]\.valueFrom: the local runner reads secrets from local files/,
    ],
    [
      'a privileged container',
      { privileged: true },
      {},
      /containerDefinitions\[0\]\.privileged: Fargate refuses it/,
    ],
    [
      'a legacy host-network EC2 revision',
      {},
      { networkMode: 'host', requiresCompatibilities: ['EC2'] },
      /networkMode: Fargate requires awsvpc, got host; requiresCompatibilities/,
    ],
  ])('refuses %s, naming the field', (_name, container, task, message) => {
    // Prepare
    const td = {
      ...FARGATE,
      requiresCompatibilities: ['FARGATE'],
      revision: 1,
      taskDefinitionArn: 'arn:local:ecs:task-definition/f:1',
      containerDefinitions: [{ name: 'wordpress', image: 'x', ...container }],
      ...task,
    };

    // Act
    const act = () =>
      runInputFromTaskDefinition(td as TaskDefinition, {
        stateDir: '/s',
        service: 'w',
        releaseId: 'r',
      });

    // Assess
    expect(act).toThrow(/cannot run as a Fargate task/);
    expect(act).toThrow(message);
  });
});

describe('choosePort', () => {
  it.each([
    [[], [], 18000],
    [[18000, 18001], [], 18002],
    [[18000], [18001], 18002],
  ])('skips claimed %j and busy %j ports: %d', async (claimed, busy, want) => {
    // Act
    const port = await choosePort(18000, new Set(claimed), async (p) => !busy.includes(p));

    // Assess
    expect(port).toBe(want);
  });

  it('says so when no port is left', async () => {
    // Act
    const result = choosePort(65000, new Set(), async () => false);

    // Assess
    await expect(result).rejects.toThrow(/no free port on 127.0.0.1 in 65000-65535/);
  });
});
