import type { Deployment, Task } from '@aws-sdk/client-ecs';
import type {
  TargetGroup,
  TargetGroupAttribute,
  TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';

/** Thresholds for the health gate, taken from the release options. */
export interface HealthPolicy {
  /** Give up (FAILED) this long after the deployment started. */
  readonly timeoutSeconds: number;
  /**
   * FAILED once this many polls *in a row* saw a new target unhealthy for a reason that may be
   * slowness (check timed out, connection refused, no target registered). A target the app
   * answered wrongly (`Target.ResponseCodeMismatch`) fails the gate at once: the load balancer
   * has already seen its unhealthy-threshold of wrong answers in a row.
   */
  readonly maxUnhealthyPolls: number;
  /** HEALTHY only after this many consecutive all-healthy polls, so a flapping target cannot pass. */
  readonly requiredHealthyPolls: number;
  /**
   * FAILED once this many tasks of the new revision stopped since the deployment began (the ECS
   * deployment circuit breaker's count). Default: {@link defaultFailedTaskThreshold}.
   */
  readonly failedTaskThreshold?: number;
}

/** Counters carried from one CheckHealth poll to the next through the execution state. */
export interface HealthProgress {
  readonly polls: number;
  /** Polls that saw a new target unhealthy (all reasons, cumulative: for the record). */
  readonly unhealthyPolls: number;
  /** Consecutive polls, up to this one, that saw a new target unhealthy. */
  readonly unhealthyStreak?: number;
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

/**
 * Where the rollout stands as one poll saw it, which sets the pace of the next poll:
 * `starting` while a new task is not yet running with every target healthy (or one is
 * unhealthy), `draining` once every new target is healthy and ECS has not yet called the
 * rollout complete (the old tasks are leaving), `settling` once it has.
 */
export type GatePhase = 'starting' | 'draining' | 'settling';

/** The gate's decision for one poll, with a reason a person can act on. */
export interface HealthVerdict {
  readonly status: 'HEALTHY' | 'IN_PROGRESS' | 'FAILED';
  readonly reason: string;
  readonly progress: HealthProgress;
  readonly phase: GatePhase;
  readonly evidence: {
    readonly rolloutState?: string;
    readonly runningNewTasks: number;
    readonly desiredCount?: number;
    readonly targets: readonly string[];
  };
}

/**
 * When the health gate's clock starts for a deployment: when ECS created it, or now when it
 * is older (UpdateService to the revision the PRIMARY deployment already carries returns that
 * deployment, and a gate timed from its old creation would time out on its first poll). Pure.
 */
export function gateStartedAt(deploymentCreatedAt: Date | string | undefined, now: Date): string {
  const created = toTime(deploymentCreatedAt);
  return new Date(
    created === undefined ? now.getTime() : Math.max(created, now.getTime()),
  ).toISOString();
}

/** Starting counters for a new health gate. */
export const initialProgress: HealthProgress = {
  polls: 0,
  unhealthyPolls: 0,
  unhealthyStreak: 0,
  healthyStreak: 0,
};

/**
 * How many stopped tasks of a new revision fail the gate when the policy does not say: half the
 * desired count, at least 2 and at most 200. ECS's circuit breaker uses the same half with a
 * floor of 3; 2 is enough here because a broken image stops every task it starts (with 2
 * desired, both stop at once), while one task killed from outside (a host retired, an
 * operator's `docker kill`) is replaced and must not fail a good release. Pure.
 */
export function defaultFailedTaskThreshold(desiredCount: number | undefined): number {
  return Math.min(200, Math.max(2, Math.ceil((desiredCount ?? 1) / 2)));
}

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
        `container ${c.name} ${c.exitCode === undefined ? 'has no exit code' : `exited ${c.exitCode}`}${
          c.reason && c.reason !== task.stoppedReason ? ` (${c.reason})` : ''
        }`,
    );
  return [
    `task ${shortId(task.taskArn)} stopped${task.stopCode ? ` [${task.stopCode}]` : ''}: ${task.stoppedReason ?? 'no reason given'}`,
    ...containers,
  ].join('; ');
}

/**
 * What the load balancer is serving, by revision: every task with a healthy target, grouped by
 * its task definition, e.g. `sd-wordpress:7 x2`. Says so when nothing healthy serves. Pure.
 */
export function servingSummary(
  tasks: readonly Task[],
  targets: readonly TargetHealthDescription[],
): string {
  const byRevision = new Map<string, number>();
  for (const t of tasks) {
    if (t.lastStatus !== 'RUNNING') continue;
    if (!targetsOfTask(t, targets).some((h) => h.TargetHealth?.State === 'healthy')) continue;
    const revision = shortId(t.taskDefinitionArn);
    byRevision.set(revision, (byRevision.get(revision) ?? 0) + 1);
  }
  if (byRevision.size === 0) return 'no healthy target is serving';
  return `serving ${[...byRevision].map(([rev, n]) => `${rev} x${n}`).join(', ')}`;
}

/**
 * Decides whether the deployment of `taskDefinitionArn` is HEALTHY, still IN_PROGRESS or FAILED,
 * telling slow from broken:
 *
 * - FAILED at once when ECS rolled the deployment back or replaced it, when a new target is
 *   unhealthy because the app answered wrongly (the load balancer already applied its
 *   unhealthy threshold), or when `failedTaskThreshold` new tasks stopped (a circuit breaker:
 *   one stopped task is replaced by ECS and does not fail the release);
 * - FAILED when a new target stayed unhealthy for another reason (timeouts, refused
 *   connections, no target) on `maxUnhealthyPolls` polls in a row: a busy task that misses a
 *   check recovers, a hung one does not; and on timeout;
 * - HEALTHY when ECS reports the deployment COMPLETED and every running task of the revision
 *   has all its targets healthy, for `requiredHealthyPolls` polls in a row — or on the first
 *   such poll when every one of those tasks was already running before the deployment began
 *   (a rollback onto tasks that are still serving is judged on them as they are).
 *
 * Tasks of other revisions (still draining) are ignored. Every FAILED reason ends with what the
 * load balancer is serving.
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
  let phase: GatePhase = 'starting';
  const fail = (reason: string, progress: HealthProgress = { ...previous, polls }) =>
    ({
      status: 'FAILED',
      reason: `${reason} (${servingSummary(obs.tasks, obs.targets)})`,
      progress,
      phase,
      evidence,
    }) as const;

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
  // The circuit breaker counts the tasks this deployment launched: a task of the same revision
  // created before it (a rollback onto tasks still running) is the old deployment's.
  const stopped = newTasks
    .filter(
      (t) =>
        t.lastStatus === 'STOPPED' &&
        (toTime(t.stoppedAt) ?? toTime(t.createdAt) ?? startedAt) >= startedAt &&
        (toTime(t.createdAt) ?? startedAt) >= startedAt,
    )
    .sort((a, b) => (toTime(b.stoppedAt) ?? 0) - (toTime(a.stoppedAt) ?? 0));
  const failedTasks = Math.max(stopped.length, ours.failedTasks ?? 0);
  const threshold = policy.failedTaskThreshold ?? defaultFailedTaskThreshold(ours.desiredCount);
  if (failedTasks >= threshold) {
    const last = stopped[0];
    return fail(
      `${failedTasks} task(s) of ${shortId(obs.taskDefinitionArn)} failed (threshold ${threshold})${
        last ? `: ${describeStoppedTask(last)}` : ''
      }`,
    );
  }

  const unhealthy = newTargets.filter((t) => t.TargetHealth?.State === 'unhealthy');
  const wrongAnswer = unhealthy.find(
    (t) => t.TargetHealth?.Reason === 'Target.ResponseCodeMismatch',
  );
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
    unhealthyStreak: bad ? (previous.unhealthyStreak ?? 0) + 1 : 0,
    healthyStreak: allHealthy ? previous.healthyStreak + 1 : 0,
  };
  if (allHealthy && !bad) phase = completed ? 'settling' : 'draining';

  if (wrongAnswer) return fail(`target ${describeTarget(wrongAnswer)}`, progress);
  if ((progress.unhealthyStreak ?? 0) >= policy.maxUnhealthyPolls) {
    const why =
      unhealthy.length > 0
        ? `target ${describeTarget(unhealthy[0] as TargetHealthDescription)}`
        : `zero targets registered in the target group for task ${shortId(missing[0]?.taskArn)}`;
    return fail(`unhealthy on ${progress.unhealthyStreak} polls in a row: ${why}`, progress);
  }
  const proven = running.every((t) => {
    const since = toTime(t.startedAt) ?? toTime(t.createdAt);
    return since !== undefined && since < startedAt;
  });
  const required = proven ? 1 : policy.requiredHealthyPolls;
  if (completed && allHealthy && progress.healthyStreak >= required) {
    return {
      status: 'HEALTHY',
      reason: `${running.length} task(s) of ${shortId(obs.taskDefinitionArn)} running, all targets healthy${
        proven ? ' (already serving before this deployment)' : ''
      }`,
      progress,
      phase,
      evidence,
    };
  }
  const summary = `rollout ${ours.rolloutState ?? 'unknown'}, ${running.length}/${ours.desiredCount ?? '?'} new tasks running${
    failedTasks > 0 ? `, ${failedTasks} failed (threshold ${threshold})` : ''
  }, ${newTargets.length === 0 ? 'zero targets registered' : evidence.targets.join(', ')}`;
  if (obs.now.getTime() - startedAt >= policy.timeoutSeconds * 1000) {
    return fail(`timed out after ${policy.timeoutSeconds}s: ${summary}`, progress);
  }
  return { status: 'IN_PROGRESS', reason: summary, progress, phase, evidence };
}

/** The target group's settings that pace the gate's polls, and the release's longest wait. */
export interface PollTiming {
  /** HealthCheckIntervalSeconds, in ms. */
  readonly intervalMs: number;
  /** UnhealthyThresholdCount: failed checks in a row before the load balancer says unhealthy. */
  readonly unhealthyThreshold: number;
  /** deregistration_delay.timeout_seconds, in ms: the longest an old target drains. */
  readonly deregistrationDelayMs: number;
  /** No wait is longer than this (the release's `pollIntervalSeconds`), when set. */
  readonly maxPollMs?: number;
}

/**
 * How long to wait before the next poll (ms), by phase. Pure.
 *
 * - `starting` and `settling`: half a health-check interval. A target changes state only at a
 *   check, so two polls per interval see each change within half an interval: a new target is
 *   noticed serving soon after it is, and a broken one (unhealthy after `unhealthyThreshold`
 *   failed checks) within `unhealthyThreshold - 1 + 0.5` intervals of its first failing check,
 *   1.5 with the template's threshold of 2.
 * - `draining`: nothing the gate waits for happens before the old targets have drained (up to
 *   the deregistration delay), so it polls less often: as seldom as still sees a new target
 *   that turns unhealthy within 2 intervals of its first failing check (the load balancer takes
 *   `unhealthyThreshold - 1` of them, the poll the rest), and never longer than the delay
 *   itself, so a short drain is not waited out. With the template's settings: one interval.
 *
 * An unhealthy new target puts the gate back in `starting`, so the polls that count toward
 * `maxUnhealthyPolls` are always half an interval apart.
 */
export function nextPollMs(phase: GatePhase, timing: PollTiming): number {
  const short = timing.intervalMs / 2;
  const withinPromise = Math.max(0, 3 - timing.unhealthyThreshold) * timing.intervalMs;
  const wait =
    phase === 'draining'
      ? Math.max(short, Math.min(withinPromise, timing.deregistrationDelayMs))
      : short;
  return Math.max(1, Math.round(Math.min(wait, timing.maxPollMs ?? Number.POSITIVE_INFINITY)));
}

/**
 * A wait in whole seconds for a Step Functions Wait state (`SecondsPath` takes an integer),
 * rounded down so a pace chosen to keep a promise still keeps it; 1 s at least. Pure.
 */
export function waitSeconds(ms: number): number {
  return Math.max(1, Math.floor(ms / 1000));
}

/** A verdict as the CheckHealth step returns it: with the seconds the next Wait lasts. */
export type PacedHealthVerdict = HealthVerdict & { readonly nextPollSeconds: number };

/** Adds the next poll's wait (whole seconds) to a verdict. Pure. */
export function paceVerdict(verdict: HealthVerdict, timing: PollTiming): PacedHealthVerdict {
  return { ...verdict, nextPollSeconds: waitSeconds(nextPollMs(verdict.phase, timing)) };
}

/** ELBv2's defaults for a target group field the description leaves out. */
const ELBV2_DEFAULTS = { intervalSeconds: 30, unhealthyThreshold: 2, deregistrationSeconds: 300 };

/**
 * The poll timing from the target group in force (DescribeTargetGroups and
 * DescribeTargetGroupAttributes), ELBv2's defaults for what they leave out, capped by the
 * release's longest wait. Pure.
 */
export function pollTimingOf(
  group: TargetGroup | undefined,
  attributes: readonly TargetGroupAttribute[],
  maxPollSeconds?: number,
): PollTiming {
  const delay = Number(
    attributes.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value,
  );
  return {
    intervalMs: (group?.HealthCheckIntervalSeconds ?? ELBV2_DEFAULTS.intervalSeconds) * 1000,
    unhealthyThreshold: group?.UnhealthyThresholdCount ?? ELBV2_DEFAULTS.unhealthyThreshold,
    deregistrationDelayMs:
      (Number.isFinite(delay) && delay >= 0 ? delay : ELBV2_DEFAULTS.deregistrationSeconds) * 1000,
    ...(maxPollSeconds === undefined ? {} : { maxPollMs: maxPollSeconds * 1000 }),
  };
}
