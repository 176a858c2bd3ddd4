import { describe, expect, it } from 'vitest';
import { failedTaskReason } from '#local/steps/service.ts';

describe('failedTaskReason: what the local ECS scheduler counts as a failed task', () => {
  it.each([
    {
      name: 'a running task with a healthy target is fine',
      task: { lastStatus: 'RUNNING' as const },
      target: 'healthy',
      want: undefined,
    },
    {
      name: 'a task still starting (target initial) is fine',
      task: { lastStatus: 'RUNNING' as const },
      target: 'initial',
      want: undefined,
    },
    {
      name: 'a pending task with no target yet is fine',
      task: { lastStatus: 'PENDING' as const },
      target: undefined,
      want: undefined,
    },
    {
      name: 'a stopped task fails with its own reason',
      task: {
        lastStatus: 'STOPPED' as const,
        stoppedReason: 'Essential container in task exited (exit code 137)',
      },
      target: 'unhealthy',
      want: 'Essential container in task exited (exit code 137)',
    },
    {
      name: 'an unhealthy container health check fails the task, as ECS stops it',
      task: { lastStatus: 'RUNNING' as const, healthStatus: 'UNHEALTHY' },
      target: 'healthy',
      want: 'Task failed container health checks',
    },
    {
      name: 'a target the load balancer calls unhealthy fails the task, as ECS stops it',
      task: { lastStatus: 'RUNNING' as const, healthStatus: 'HEALTHY' },
      target: 'unhealthy',
      want: 'Task failed ELB health checks in (target-group local:haproxy/app)',
    },
  ])('$name', ({ task, target, want }) => {
    // Act
    const got = failedTaskReason(task, target);
    // Assess
    expect(got).toBe(want);
  });
});
