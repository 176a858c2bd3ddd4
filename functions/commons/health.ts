import type { Deployment, Task } from '@aws-sdk/client-ecs';
import type { TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';

/** Thresholds for the health gate, taken from the release options. */
export interface HealthPolicy {
  /** Give up (FAILED) this long after the deployment started. */
  readonly timeoutSeconds: number;
  /** FAILED once this many polls saw a new target unhealthy (cumulative, so flapping counts). */
  readonly maxUnhealthyPolls: number;
  /** HEALTHY only after this many consecutive all-healthy polls, so a flapping target cannot pass. */
  readonly requiredHealthyPolls: number;
}

/** Counters carried from one CheckHealth poll to the next through the execution state. */
export interface HealthProgress {
  readonly polls: number;
  readonly unhealthyPolls: number;
  readonly healthyStreak: number;
}

/** What one poll saw, in the shapes ECS DescribeServices/DescribeTasks and ELBv2 DescribeTargetHealth return. */
export interface HealthObservation {
  readonly taskDefinitionArn: string;
  readonly deploymentId?: string;
  /** ISO time the deployment was requested; stopped tasks older than this are ignored. */
  readonly startedAt: string;
  readonly now: Date;
  readonly deployments: readonly Deployment[];
  readonly tasks: readonly Task[];
  readonly targets: readonly TargetHealthDescription[];
}

/** The gate's decision for one poll, with a reason a person can act on. */
export interface HealthVerdict {
  readonly status: 'HEALTHY' | 'IN_PROGRESS' | 'FAILED';
  readonly reason: string;
  readonly progress: HealthProgress;
  readonly evidence: {
    readonly rolloutState?: string;
    readonly runningNewTasks: number;
    readonly desiredCount?: number;
    readonly targets: readonly string[];
  };
}

/** Starting counters for a new health gate. */
export const initialProgress: HealthProgress = { polls: 0, unhealthyPolls: 0, healthyStreak: 0 };

const shortId = (arn: string | undefined): string => arn?.split('/').pop() ?? 'unknown';
const toTime = (value: Date | string | undefined): number | undefined =>
  value === undefined ? undefined : new Date(value).getTime();

/** The private IP and (for bridge/host networking) host ports a task's targets are registered under. */
export function taskEndpoints(task: Task): { ip?: string; ports: number[] } {
  const eniIp = task.attachments
    ?.flatMap((a) => a.details ?? [])
    .find((d) => d.name === 'privateIPv4Address')?.value;
  const containerIp = task.containers
    ?.flatMap((c) => c.networkInterfaces ?? [])
    .find((n) => n.privateIpv4Address)?.privateIpv4Address;
  const bindings = task.containers?.flatMap((c) => c.networkBindings ?? []) ?? [];
  const ip = eniIp ?? containerIp ?? bindings.find((b) => b.bindIP)?.bindIP;
  const ports = bindings.flatMap((b) => (b.hostPort === undefined ? [] : [b.hostPort]));
  return { ip, ports };
}

/** Targets of the target group that belong to a task (awsvpc: by IP; host/bridge: IP and host port). */
export function targetsOfTask(
  task: Task,
  targets: readonly TargetHealthDescription[],
): TargetHealthDescription[] {
  const { ip, ports } = taskEndpoints(task);
  if (!ip) return [];
  return targets.filter(
    (t) =>
      t.Target?.Id === ip &&
      (ports.length === 0 || (t.Target.Port !== undefined && ports.includes(t.Target.Port))),
  );
}

const describeTarget = (t: TargetHealthDescription): string =>
  `${t.Target?.Id}:${t.Target?.Port} ${t.TargetHealth?.State ?? 'unknown'}${
    t.TargetHealth?.Reason
      ? ` (${t.TargetHealth.Reason}${t.TargetHealth.Description ? `: ${t.TargetHealth.Description}` : ''})`
      : ''
  }`;

/** Why a task stopped, naming containers that exited non-zero or without an exit code. */
export function describeStoppedTask(task: Task): string {
  const containers = (task.containers ?? [])
    .filter((c) => c.exitCode !== 0)
    .map(
      (c) =>
        `container ${c.name} ${c.exitCode === undefined ? 'has no exit code' : `exited ${c.exitCode}`}${c.reason ? ` (${c.reason})` : ''}`,
    );
  return [
    `task ${shortId(task.taskArn)} stopped${task.stopCode ? ` [${task.stopCode}]` : ''}: ${task.stoppedReason ?? 'no reason given'}`,
    ...containers,
  ].join('; ');
}

/**
 * Decides whether the deployment of `taskDefinitionArn` is HEALTHY, still IN_PROGRESS or FAILED.
 * HEALTHY needs ECS to report the deployment COMPLETED and every running task of the new
 * revision to have all its targets `healthy` for `requiredHealthyPolls` polls in a row. Tasks of
 * other revisions (still draining) are ignored. FAILED at once when ECS rolled the deployment
 * back or replaced it, or a new task stopped; FAILED after `maxUnhealthyPolls` polls with an
 * unhealthy (or missing) target; FAILED on timeout.
 */
export function judgeHealth(
  obs: HealthObservation,
  policy: HealthPolicy,
  previous: HealthProgress = initialProgress,
): HealthVerdict {
  const ours =
    (obs.deploymentId ? obs.deployments.find((d) => d.id === obs.deploymentId) : undefined) ??
    obs.deployments.find((d) => d.taskDefinition === obs.taskDefinitionArn);
  const primary = obs.deployments.find((d) => d.status === 'PRIMARY');
  const newTasks = obs.tasks.filter((t) => t.taskDefinitionArn === obs.taskDefinitionArn);
  const running = newTasks.filter((t) => t.lastStatus === 'RUNNING');
  const newTargets = running.flatMap((t) => targetsOfTask(t, obs.targets));
  const evidence = {
    rolloutState: ours?.rolloutState,
    runningNewTasks: running.length,
    desiredCount: ours?.desiredCount,
    targets: newTargets.map(describeTarget),
  };
  const polls = previous.polls + 1;
  const fail = (reason: string, progress: HealthProgress = { ...previous, polls }) =>
    ({ status: 'FAILED', reason, progress, evidence }) as const;

  if (ours?.rolloutState === 'FAILED') {
    return fail(
      `ECS rolled back deployment ${ours.id}: ${ours.rolloutStateReason ?? 'rollout failed'}`,
    );
  }
  if (primary && primary.taskDefinition !== obs.taskDefinitionArn) {
    return fail(
      `ECS replaced the deployment: service is now on ${shortId(primary.taskDefinition)}${
        primary.rolloutStateReason ? ` (${primary.rolloutStateReason})` : ''
      }`,
    );
  }
  if (!ours) return fail(`no ECS deployment found for ${shortId(obs.taskDefinitionArn)}`);

  const startedAt = new Date(obs.startedAt).getTime();
  const stopped = newTasks.find(
    (t) =>
      t.lastStatus === 'STOPPED' &&
      (toTime(t.stoppedAt) ?? toTime(t.createdAt) ?? startedAt) >= startedAt,
  );
  if (stopped) return fail(describeStoppedTask(stopped));

  const unhealthy = newTargets.filter((t) => t.TargetHealth?.State === 'unhealthy');
  const missing = running.filter((t) => targetsOfTask(t, obs.targets).length === 0);
  const completed = ours.rolloutState === 'COMPLETED';
  // Once ECS calls the rollout complete, a running task with no target is a fault, not a delay.
  const bad = unhealthy.length > 0 || (completed && missing.length > 0);
  const allHealthy =
    running.length > 0 &&
    running.length >= (ours.desiredCount ?? 1) &&
    missing.length === 0 &&
    newTargets.every((t) => t.TargetHealth?.State === 'healthy');
  const progress: HealthProgress = {
    polls,
    unhealthyPolls: previous.unhealthyPolls + (bad ? 1 : 0),
    healthyStreak: allHealthy ? previous.healthyStreak + 1 : 0,
  };

  if (progress.unhealthyPolls >= policy.maxUnhealthyPolls) {
    const why =
      unhealthy.length > 0
        ? `target ${describeTarget(unhealthy[0] as TargetHealthDescription)}`
        : `zero targets registered in the target group for task ${shortId(missing[0]?.taskArn)}`;
    return fail(`unhealthy on ${progress.unhealthyPolls} polls: ${why}`, progress);
  }
  if (completed && allHealthy && progress.healthyStreak >= policy.requiredHealthyPolls) {
    return {
      status: 'HEALTHY',
      reason: `${running.length} task(s) of ${shortId(obs.taskDefinitionArn)} running, all targets healthy`,
      progress,
      evidence,
    };
  }
  const summary = `rollout ${ours.rolloutState ?? 'unknown'}, ${running.length}/${ours.desiredCount ?? '?'} new tasks running, ${
    newTargets.length === 0 ? 'zero targets registered' : evidence.targets.join(', ')
  }`;
  if (obs.now.getTime() - startedAt >= policy.timeoutSeconds * 1000) {
    return fail(`timed out after ${policy.timeoutSeconds}s: ${summary}`, progress);
  }
  return { status: 'IN_PROGRESS', reason: summary, progress, evidence };
}
