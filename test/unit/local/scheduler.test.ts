import { describe, expect, it } from 'vitest';
import { failedTaskReason } from '#local/scheduler.ts';

const NOW = Date.parse('2026-01-01T10:00:00.000Z');
const T0 = new Date(NOW - 60_000).toISOString();

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
      name: 'a target the load balancer calls unhealthy past the grace period fails the task',
      task: { lastStatus: 'RUNNING' as const, healthStatus: 'HEALTHY', startedAt: T0 },
      target: 'unhealthy',
      want: 'Task failed ELB health checks in (target-group local:haproxy/app)',
    },
    {
      name: 'an unhealthy target within the grace period is left alone (still starting)',
      task: { lastStatus: 'RUNNING' as const, startedAt: new Date(NOW - 5_000).toISOString() },
      target: 'unhealthy',
      want: undefined,
    },
  ])('$name', ({ task, target, want }) => {
    // Act
    const got = failedTaskReason(task, target, 12_000, NOW);
    // Assess
    expect(got).toBe(want);
  });
});
