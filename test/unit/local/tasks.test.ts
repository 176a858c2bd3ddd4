import { describe, expect, it } from 'vitest';
import type { ContainerInspect } from '#local/docker.ts';
import { runInputFromTaskDefinition, taskFromInspect, toEcsTask } from '#local/tasks.ts';

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
      want: { lastStatus: 'RUNNING', desiredStatus: 'RUNNING', revision: 3, port: 18000 },
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

describe('toEcsTask', () => {
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

describe('runInputFromTaskDefinition', () => {
  it('turns environment into env and secret file references into secretFiles', () => {
    // Prepare
    const td = {
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
      env: { WORDPRESS_DB_HOST: '127.0.0.1:13306' },
      secretFiles: { WORDPRESS_DB_PASSWORD: '/state/secrets/wordpress-db-password' },
      taskDefinitionArn: 'arn:local:ecs:task-definition/stepdeploy-wordpress:4',
    });
  });

  it('refuses a secret that is not a local file path', () => {
    // Prepare
    const td = {
      revision: 1,
      containerDefinitions: [
        {
          name: 'wordpress',
          image: 'x',
          secrets: [{ name: 'P', valueFrom: 'arn:aws:secretsmanager:x' }],
        },
      ],
    };

    // Act / Assess
    expect(() =>
      runInputFromTaskDefinition(td, { stateDir: '/s', service: 'w', releaseId: 'r' }),
    ).toThrow(/absolute path/);
  });
});
