import type { Deployment, Task } from '@aws-sdk/client-ecs';
import type { TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import {
  defaultFailedTaskThreshold,
  gateStartedAt,
  type HealthObservation,
  type HealthPolicy,
  type HealthProgress,
  initialProgress,
  judgeHealth,
  nextPollMs,
  paceVerdict,
  pollTimingOf,
  servingSummary,
  waitSeconds,
} from '#commons/health.ts';

const OLD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/sd-wordpress:7';
const NEW = 'arn:aws:ecs:us-east-1:123456789012:task-definition/sd-wordpress:8';
const STARTED = '2026-01-01T10:00:00.000Z';
const policy = { timeoutSeconds: 600, maxUnhealthyPolls: 3, requiredHealthyPolls: 2 };

const deployment = (over: Partial<Deployment>): Deployment => ({
  id: 'ecs-svc/1111',
  status: 'PRIMARY',
  taskDefinition: NEW,
  desiredCount: 2,
  runningCount: 2,
  rolloutState: 'IN_PROGRESS',
  createdAt: new Date(STARTED),
  ...over,
});
const task = (id: string, ip: string, over: Partial<Task> = {}): Task => ({
  taskArn: `arn:aws:ecs:us-east-1:123456789012:task/sd/${id}`,
  taskDefinitionArn: NEW,
  lastStatus: 'RUNNING',
  desiredStatus: 'RUNNING',
  createdAt: new Date('2026-01-01T10:00:30.000Z'),
  attachments: [
    { type: 'ElasticNetworkInterface', details: [{ name: 'privateIPv4Address', value: ip }] },
  ],
  containers: [{ name: 'wordpress', lastStatus: 'RUNNING' }],
  ...over,
});
const target = (
  ip: string,
  state: string,
  reason?: string,
  description?: string,
): TargetHealthDescription => ({
  Target: { Id: ip, Port: 8080 },
  TargetHealth: {
    State: state as never,
    ...(reason ? { Reason: reason as never } : {}),
    ...(description ? { Description: description } : {}),
  },
});
const observe = (over: Partial<HealthObservation>): HealthObservation => ({
  taskDefinitionArn: NEW,
  deploymentId: 'ecs-svc/1111',
  startedAt: STARTED,
  now: new Date('2026-01-01T10:02:00.000Z'),
  deployments: [
    deployment({}),
    deployment({
      id: 'ecs-svc/0000',
      status: 'ACTIVE',
      taskDefinition: OLD,
      rolloutState: 'COMPLETED',
    }),
  ],
  tasks: [task('a', '10.0.1.10'), task('b', '10.0.2.10')],
  targets: [target('10.0.1.10', 'healthy'), target('10.0.2.10', 'healthy')],
  ...over,
});
const completed = [deployment({ rolloutState: 'COMPLETED' })];
const crashed = (id: string, at: string): Task =>
  task(id, `10.0.7.${id.charCodeAt(0)}`, {
    lastStatus: 'STOPPED',
    desiredStatus: 'STOPPED',
    stopCode: 'EssentialContainerExited',
    stoppedReason: 'Essential container in task exited',
    stoppedAt: new Date(`2026-01-01T${at}.000Z`),
    containers: [{ name: 'wordpress', lastStatus: 'STOPPED', exitCode: 1, reason: undefined }],
  });

describe('judgeHealth', () => {
  const cases: Array<{
    name: string;
    obs: Partial<HealthObservation>;
    progress?: HealthProgress;
    policy?: Partial<HealthPolicy>;
    status: 'HEALTHY' | 'IN_PROGRESS' | 'FAILED';
    reason: RegExp;
  }> = [
    {
      name: 'healthy after the required consecutive healthy polls',
      obs: { deployments: completed },
      progress: { polls: 3, unhealthyPolls: 0, healthyStreak: 1 },
      status: 'HEALTHY',
      reason: /2 task\(s\) of sd-wordpress:8 running, all targets healthy/,
    },
    {
      name: 'one healthy poll is not enough (a flapping target must not pass)',
      obs: { deployments: completed },
      status: 'IN_PROGRESS',
      reason: /rollout COMPLETED/,
    },
    {
      name: 'a target the app answered wrongly fails at once (the ALB already saw it twice)',
      obs: {
        targets: [
          target(
            '10.0.1.10',
            'unhealthy',
            'Target.ResponseCodeMismatch',
            'Health checks failed with these codes: [503]',
          ),
          target('10.0.2.10', 'healthy'),
        ],
      },
      status: 'FAILED',
      reason:
        /^target 10\.0\.1\.10:8080 unhealthy \(Target\.ResponseCodeMismatch: Health checks failed with these codes: \[503\]\) \(serving sd-wordpress:8 x1\)$/,
    },
    {
      name: 'timed-out checks on fewer polls in a row than the threshold keep waiting (slow, not broken)',
      obs: {
        targets: [
          target('10.0.1.10', 'unhealthy', 'Target.Timeout', 'Request timed out'),
          target('10.0.2.10', 'healthy'),
        ],
      },
      progress: { polls: 5, unhealthyPolls: 4, unhealthyStreak: 1, healthyStreak: 0 },
      status: 'IN_PROGRESS',
      reason: /unhealthy \(Target\.Timeout: Request timed out\)/,
    },
    {
      name: 'timed-out checks on threshold polls in a row fail (hung, not slow)',
      obs: {
        targets: [
          target('10.0.1.10', 'unhealthy', 'Target.Timeout', 'Request timed out'),
          target('10.0.2.10', 'healthy'),
        ],
      },
      progress: { polls: 5, unhealthyPolls: 2, unhealthyStreak: 2, healthyStreak: 0 },
      status: 'FAILED',
      reason:
        /unhealthy on 3 polls in a row: target 10\.0\.1\.10:8080 unhealthy \(Target\.Timeout: Request timed out\)/,
    },
    {
      name: 'a single unhealthy poll below the threshold keeps waiting',
      obs: {
        targets: [
          target('10.0.1.10', 'unhealthy', 'Target.Timeout'),
          target('10.0.2.10', 'healthy'),
        ],
      },
      status: 'IN_PROGRESS',
      reason: /unhealthy \(Target\.Timeout\)/,
    },
    {
      name: 'old-revision tasks still draining are ignored',
      obs: {
        deployments: completed,
        tasks: [
          task('a', '10.0.1.10'),
          task('b', '10.0.2.10'),
          task('old', '10.0.3.10', { taskDefinitionArn: OLD, desiredStatus: 'STOPPED' }),
        ],
        targets: [
          target('10.0.1.10', 'healthy'),
          target('10.0.2.10', 'healthy'),
          target('10.0.3.10', 'draining', 'Target.DeregistrationInProgress'),
        ],
      },
      progress: { polls: 2, unhealthyPolls: 0, healthyStreak: 1 },
      status: 'HEALTHY',
      reason: /all targets healthy/,
    },
    {
      name: 'old-revision task unhealthy does not fail the new revision',
      obs: {
        tasks: [task('a', '10.0.1.10'), task('old', '10.0.3.10', { taskDefinitionArn: OLD })],
        targets: [
          target('10.0.1.10', 'initial', 'Elb.RegistrationInProgress'),
          target('10.0.3.10', 'unhealthy', 'Target.FailedHealthChecks'),
        ],
      },
      progress: { polls: 2, unhealthyPolls: 2, healthyStreak: 0 },
      status: 'IN_PROGRESS',
      reason: /initial/,
    },
    {
      name: 'ECS circuit breaker rolled the deployment back (rolloutState FAILED)',
      obs: {
        deployments: [
          deployment({
            rolloutState: 'FAILED',
            status: 'ACTIVE',
            rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
          }),
          deployment({
            id: 'ecs-svc/2222',
            status: 'PRIMARY',
            taskDefinition: OLD,
            rolloutState: 'IN_PROGRESS',
          }),
        ],
      },
      status: 'FAILED',
      reason:
        /ECS rolled back deployment ecs-svc\/1111: ECS deployment circuit breaker: tasks failed to start\./,
    },
    {
      name: 'a newer PRIMARY deployment on the old revision is a failure, never a success',
      obs: {
        deployments: [
          deployment({ id: 'ecs-svc/3333', taskDefinition: OLD, rolloutState: 'COMPLETED' }),
        ],
        deploymentId: 'ecs-svc/1111',
      },
      status: 'FAILED',
      reason: /ECS replaced the deployment: service is now on sd-wordpress:7/,
    },
    {
      name: 'one stopped new task is below the failed-task threshold: ECS replaces it',
      obs: {
        tasks: [task('a', '10.0.1.10'), task('b', '10.0.2.10'), crashed('c', '10:01:00')],
      },
      status: 'IN_PROGRESS',
      reason: /2\/2 new tasks running, 1 failed \(threshold 2\)/,
    },
    {
      name: 'stopped new tasks reaching the threshold fail with the latest stopped-task reason',
      obs: {
        tasks: [task('a', '10.0.1.10'), crashed('c', '10:01:00'), crashed('d', '10:01:05')],
      },
      status: 'FAILED',
      reason:
        /^2 task\(s\) of sd-wordpress:8 failed \(threshold 2\): task d stopped \[EssentialContainerExited\]: Essential container in task exited; container wordpress exited 1 \(serving sd-wordpress:8 x1\)$/,
    },
    {
      name: 'tasks of the revision launched before the deployment (a rollback onto them) do not count',
      obs: {
        tasks: [
          task('a', '10.0.1.10'),
          task('b', '10.0.2.10'),
          { ...crashed('c', '10:01:00'), createdAt: new Date('2026-01-01T09:00:00.000Z') },
          { ...crashed('d', '10:01:05'), createdAt: new Date('2026-01-01T09:00:00.000Z') },
        ],
      },
      status: 'IN_PROGRESS',
      reason: /2\/2 new tasks running, 10\.0\.1\.10/,
    },
    {
      name: "the deployment's own failedTasks count counts like stopped tasks",
      obs: { deployments: [deployment({ failedTasks: 3, desiredCount: 6 })] },
      status: 'FAILED',
      reason: /^3 task\(s\) of sd-wordpress:8 failed \(threshold 3\)/,
    },
    {
      name: 'a policy threshold overrides the default',
      obs: { tasks: [task('a', '10.0.1.10'), task('b', '10.0.2.10'), crashed('c', '10:01:00')] },
      policy: { failedTaskThreshold: 1 },
      status: 'FAILED',
      reason: /^1 task\(s\) of sd-wordpress:8 failed \(threshold 1\): task c stopped/,
    },
    {
      name: 'tasks already serving before the deployment pass on the first healthy poll',
      obs: {
        deployments: completed,
        tasks: [
          task('a', '10.0.1.10', { startedAt: new Date('2026-01-01T09:50:00.000Z') }),
          task('b', '10.0.2.10', { startedAt: new Date('2026-01-01T09:50:00.000Z') }),
        ],
      },
      status: 'HEALTHY',
      reason: /2 task\(s\) of sd-wordpress:8 running, all targets healthy \(already serving/,
    },
    {
      name: 'a task stopped before this deployment started is history, not a failure',
      obs: {
        tasks: [
          task('a', '10.0.1.10'),
          task('b', '10.0.2.10'),
          task('z', '10.0.9.10', {
            lastStatus: 'STOPPED',
            stoppedReason: 'Scaling activity initiated by deployment',
            stoppedAt: new Date('2026-01-01T09:00:00.000Z'),
          }),
        ],
      },
      status: 'IN_PROGRESS',
      reason: /2\/2 new tasks running/,
    },
    {
      name: 'zero targets registered while rolling out keeps waiting',
      obs: { targets: [] },
      status: 'IN_PROGRESS',
      reason: /zero targets registered/,
    },
    {
      name: 'zero targets registered although ECS says COMPLETED fails after the unhealthy polls',
      obs: { deployments: completed, targets: [] },
      progress: { polls: 4, unhealthyPolls: 2, unhealthyStreak: 2, healthyStreak: 0 },
      status: 'FAILED',
      reason: /zero targets registered in the target group for task a/,
    },
    {
      name: 'times out with the last observation as the reason',
      obs: {
        now: new Date('2026-01-01T10:10:00.000Z'),
        targets: [target('10.0.1.10', 'initial', 'Elb.RegistrationInProgress')],
      },
      status: 'FAILED',
      reason: /timed out after 600s: rollout IN_PROGRESS, 2\/2 new tasks running/,
    },
    {
      name: 'fewer running new tasks than desired is not healthy',
      obs: {
        deployments: completed,
        tasks: [task('a', '10.0.1.10')],
        targets: [target('10.0.1.10', 'healthy')],
      },
      progress: { polls: 2, unhealthyPolls: 0, healthyStreak: 3 },
      status: 'IN_PROGRESS',
      reason: /1\/2 new tasks running/,
    },
    {
      name: 'host networking (local mode): targets matched by IP and host port',
      obs: {
        deployments: [deployment({ rolloutState: 'COMPLETED', desiredCount: 1 })],
        tasks: [
          task('l1', '127.0.0.1', {
            attachments: [],
            containers: [
              {
                name: 'wordpress',
                networkBindings: [{ bindIP: '127.0.0.1', hostPort: 18001, containerPort: 18001 }],
              },
            ],
          }),
        ],
        targets: [
          {
            Target: { Id: '127.0.0.1', Port: 18000 },
            TargetHealth: { State: 'unhealthy', Reason: 'Target.FailedHealthChecks' },
          },
          { Target: { Id: '127.0.0.1', Port: 18001 }, TargetHealth: { State: 'healthy' } },
        ],
      },
      progress: { polls: 2, unhealthyPolls: 0, healthyStreak: 1 },
      status: 'HEALTHY',
      reason: /1 task\(s\)/,
    },
  ];

  it.each(cases)('$name', ({ obs, progress, policy: over, status, reason }) => {
    // Prepare
    const observation = observe(obs);
    // Act
    const verdict = judgeHealth(observation, { ...policy, ...over }, progress ?? initialProgress);
    // Assess
    expect(verdict.status).toBe(status);
    expect(verdict.reason).toMatch(reason);
  });

  it('carries the counters from poll to poll', () => {
    // Prepare
    const unhealthy = observe({
      targets: [target('10.0.1.10', 'unhealthy', 'Target.Timeout'), target('10.0.2.10', 'healthy')],
    });
    const healthy = observe({ deployments: completed });
    // Act
    const first = judgeHealth(unhealthy, policy);
    const second = judgeHealth(healthy, policy, first.progress);
    const third = judgeHealth(healthy, policy, second.progress);
    // Assess
    expect(first.progress).toEqual({
      polls: 1,
      unhealthyPolls: 1,
      unhealthyStreak: 1,
      healthyStreak: 0,
    });
    expect(second.progress).toEqual({
      polls: 2,
      unhealthyPolls: 1,
      unhealthyStreak: 0,
      healthyStreak: 1,
    });
    expect(third.status).toBe('HEALTHY');
  });

  it('one timed-out check between healthy polls never fails, however often it recurs', () => {
    // Prepare
    const slow = observe({
      targets: [target('10.0.1.10', 'unhealthy', 'Target.Timeout'), target('10.0.2.10', 'healthy')],
    });
    const fine = observe({});
    // Act
    let progress: HealthProgress = initialProgress;
    const statuses: string[] = [];
    for (let i = 0; i < 20; i++) {
      const verdict = judgeHealth(i % 2 === 0 ? slow : fine, policy, progress);
      statuses.push(verdict.status);
      progress = verdict.progress;
    }
    // Assess
    expect(statuses.every((s) => s === 'IN_PROGRESS')).toBe(true);
    expect(progress.unhealthyPolls).toBe(10);
  });
});

describe('defaultFailedTaskThreshold', () => {
  it.each([
    [undefined, 2],
    [1, 2],
    [2, 2],
    [4, 2],
    [5, 3],
    [10, 5],
    [1000, 200],
  ])('desired %s -> %s', (desired, threshold) => {
    // Act / Assess
    expect(defaultFailedTaskThreshold(desired)).toBe(threshold);
  });
});

describe('gateStartedAt', () => {
  const now = new Date('2026-01-01T10:05:00.000Z');
  it.each([
    ['a deployment created just now starts the clock at its creation', '2026-01-01T10:05:00.000Z'],
    ['an older deployment (reused by UpdateService) starts it now', '2026-01-01T09:00:00.000Z'],
    ['no creation time starts it now', undefined],
  ])('%s', (_name, createdAt) => {
    // Act
    const got = gateStartedAt(createdAt, now);
    // Assess
    expect(got).toBe('2026-01-01T10:05:00.000Z');
  });
});

describe('servingSummary', () => {
  it('groups the tasks with a healthy target by revision', () => {
    // Prepare
    const tasks = [
      task('a', '10.0.1.10'),
      task('b', '10.0.2.10', { taskDefinitionArn: OLD }),
      task('c', '10.0.3.10', { taskDefinitionArn: OLD }),
      task('d', '10.0.4.10'),
    ];
    const targets = [
      target('10.0.1.10', 'healthy'),
      target('10.0.2.10', 'healthy'),
      target('10.0.3.10', 'healthy'),
      target('10.0.4.10', 'unhealthy', 'Target.Timeout'),
    ];
    // Act / Assess
    expect(servingSummary(tasks, targets)).toBe('serving sd-wordpress:8 x1, sd-wordpress:7 x2');
    expect(servingSummary(tasks, [])).toBe('no healthy target is serving');
  });
});

describe('the phase a poll sees', () => {
  it.each([
    {
      name: 'a new task not yet healthy: starting',
      obs: observe({ targets: [target('10.0.1.10', 'initial'), target('10.0.2.10', 'healthy')] }),
      phase: 'starting',
    },
    {
      name: 'one new task running of two desired: starting',
      obs: observe({ tasks: [task('a', '10.0.1.10')], targets: [target('10.0.1.10', 'healthy')] }),
      phase: 'starting',
    },
    {
      name: 'a new target unhealthy after all were healthy: starting again',
      obs: observe({
        targets: [
          target('10.0.1.10', 'healthy'),
          target('10.0.2.10', 'unhealthy', 'Target.Timeout'),
        ],
      }),
      phase: 'starting',
    },
    {
      name: 'every new target healthy, the rollout still in progress: draining',
      obs: observe({}),
      phase: 'draining',
    },
    {
      name: 'every new target healthy and the rollout COMPLETED: settling',
      obs: observe({ deployments: completed }),
      phase: 'settling',
    },
  ])('$name', ({ obs, phase }) => {
    // Act
    const verdict = judgeHealth(obs, policy);
    // Assess
    expect(verdict.phase).toBe(phase);
  });
});

describe('nextPollMs', () => {
  // The template's target group: 10 s interval, unhealthy threshold 2, 20 s deregistration.
  const template = { intervalMs: 10_000, unhealthyThreshold: 2, deregistrationDelayMs: 20_000 };
  it.each([
    { name: 'starting: half an interval', phase: 'starting', timing: template, want: 5_000 },
    { name: 'settling: half an interval', phase: 'settling', timing: template, want: 5_000 },
    {
      name: 'draining: one interval, the longest that still sees a new target turn unhealthy within 2 intervals',
      phase: 'draining',
      timing: template,
      want: 10_000,
    },
    {
      name: 'draining with an unhealthy threshold of 1: two intervals, capped by the delay',
      phase: 'draining',
      timing: { ...template, unhealthyThreshold: 1, deregistrationDelayMs: 15_000 },
      want: 15_000,
    },
    {
      name: 'draining with a threshold of 3: the promise leaves no room, half an interval',
      phase: 'draining',
      timing: { ...template, unhealthyThreshold: 3 },
      want: 5_000,
    },
    {
      name: 'draining with a delay shorter than the interval: the delay',
      phase: 'draining',
      timing: { ...template, deregistrationDelayMs: 7_000 },
      want: 7_000,
    },
    {
      name: 'draining with no delay at all: half an interval',
      phase: 'draining',
      timing: { ...template, deregistrationDelayMs: 0 },
      want: 5_000,
    },
    {
      name: 'the release caps every wait (pollIntervalSeconds)',
      phase: 'draining',
      timing: { ...template, maxPollMs: 3_000 },
      want: 3_000,
    },
    {
      name: 'local mode at time factor 0.5: 2.5 s while starting',
      phase: 'starting',
      timing: { intervalMs: 5_000, unhealthyThreshold: 2, deregistrationDelayMs: 10_000 },
      want: 2_500,
    },
  ] as const)('$name', ({ phase, timing, want }) => {
    // Act
    const got = nextPollMs(phase, timing);
    // Assess
    expect(got).toBe(want);
  });

  it('detects a target that turns unhealthy within 2 intervals of its first failing check, in every phase', () => {
    // Prepare: the load balancer calls it unhealthy (threshold - 1) intervals after that check.
    const lbMs = (template.unhealthyThreshold - 1) * template.intervalMs;
    // Act
    const worst = Math.max(
      ...(['starting', 'draining', 'settling'] as const).map((p) => nextPollMs(p, template)),
    );
    // Assess
    expect(lbMs + worst).toBeLessThanOrEqual(2 * template.intervalMs);
  });
});

describe('waitSeconds', () => {
  it.each([
    [5_000, 5],
    [2_500, 2],
    [999, 1],
    [0, 1],
    [10_400, 10],
  ])('%d ms waits %d s', (ms, want) => {
    // Act / Assess
    expect(waitSeconds(ms)).toBe(want);
  });
});

describe('pollTimingOf', () => {
  it.each([
    {
      name: 'the target group as described',
      group: { HealthCheckIntervalSeconds: 10, UnhealthyThresholdCount: 2 },
      attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '20' }],
      max: 15,
      want: {
        intervalMs: 10_000,
        unhealthyThreshold: 2,
        deregistrationDelayMs: 20_000,
        maxPollMs: 15_000,
      },
    },
    {
      name: "ELBv2's defaults for what the description leaves out",
      group: {},
      attributes: [{ Key: 'stickiness.enabled', Value: 'false' }],
      max: undefined,
      want: { intervalMs: 30_000, unhealthyThreshold: 2, deregistrationDelayMs: 300_000 },
    },
    {
      name: 'a zero deregistration delay stays zero',
      group: { HealthCheckIntervalSeconds: 5, UnhealthyThresholdCount: 3 },
      attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '0' }],
      max: undefined,
      want: { intervalMs: 5_000, unhealthyThreshold: 3, deregistrationDelayMs: 0 },
    },
  ])('$name', ({ group, attributes, max, want }) => {
    // Act
    const got = pollTimingOf(group, attributes, max);
    // Assess
    expect(got).toEqual(want);
  });
});

describe('paceVerdict', () => {
  it('adds the whole seconds of the next wait for the verdict phase', () => {
    // Prepare
    const verdict = judgeHealth(observe({}), policy);
    // Act
    const paced = paceVerdict(verdict, {
      intervalMs: 10_000,
      unhealthyThreshold: 2,
      deregistrationDelayMs: 20_000,
    });
    // Assess
    expect(paced).toMatchObject({ status: 'IN_PROGRESS', phase: 'draining', nextPollSeconds: 10 });
  });
});
