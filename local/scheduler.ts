import { randomBytes } from 'node:crypto';
import type { Deployment, Task, TaskDefinition } from '@aws-sdk/client-ecs';
import type { TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import { defaultFailedTaskThreshold } from '#commons/health.ts';
import { pollUntil, sleep } from '#commons/wait.ts';
import type { LoadBalancer } from './load-balancer.ts';
import { type ServiceRecord, serviceTable, type TaskDefinitionStore } from './task-definitions.ts';
import {
  type LocalTask,
  listTasks,
  promoteTask,
  removeTask,
  runInputFromTaskDefinition,
  runTask,
  stopTask,
  toEcsTask,
} from './tasks.ts';

/** One deployment of the local service, shaped after ECS `Deployment`. */
export interface LocalDeployment extends Record<string, unknown> {
  readonly id: string;
  readonly status: 'PRIMARY' | 'ACTIVE';
  readonly taskDefinition: string;
  readonly desiredCount: number;
  readonly rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  readonly rolloutStateReason: string;
  /** Tasks of this deployment that failed (stopped, or failed a health check), like ECS's. */
  readonly failedTasks?: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** The stored service record with its deployments (the local ECS service). */
export interface LocalServiceState extends ServiceRecord {
  readonly deployments?: readonly LocalDeployment[];
}

/** What the scheduler did, for progress displays and the bench (timestamps in epoch ms). */
export type ServiceEvent =
  | {
      readonly type: 'deployment-created';
      readonly at: number;
      readonly deploymentId: string;
      readonly taskDefinition: string;
    }
  | {
      readonly type: 'task-started';
      readonly at: number;
      readonly deploymentId: string;
      readonly task: string;
      readonly port: number;
    }
  | {
      readonly type: 'task-replaced';
      readonly at: number;
      readonly deploymentId: string;
      readonly task: string;
      readonly port: number;
    }
  | {
      readonly type: 'task-failed';
      readonly at: number;
      readonly deploymentId: string;
      readonly task: string;
      readonly reason: string;
      /** The deployment's failed tasks so far, this one included. */
      readonly failedTasks: number;
    }
  | {
      readonly type: 'task-adopted';
      readonly at: number;
      readonly deploymentId: string;
      readonly task: string;
    }
  | { readonly type: 'tasks-healthy'; readonly at: number; readonly deploymentId: string }
  | {
      readonly type: 'drain-started';
      readonly at: number;
      readonly deploymentId: string;
      readonly tasks: readonly string[];
    }
  | {
      readonly type: 'drain-finished';
      readonly at: number;
      readonly deploymentId: string;
      readonly tasks: readonly string[];
    }
  | { readonly type: 'deployment-completed'; readonly at: number; readonly deploymentId: string }
  | { readonly type: 'deployment-superseded'; readonly at: number; readonly deploymentId: string }
  | {
      readonly type: 'rollout-error';
      readonly at: number;
      readonly deploymentId: string;
      readonly message: string;
    };

/** What the local service needs. */
export interface LocalServiceOptions {
  readonly stateDir: string;
  readonly service: string;
  readonly loadBalancer: LoadBalancer;
  readonly taskDefinitions: TaskDefinitionStore;
  readonly portBase: number;
  /** Tasks the service keeps running when the record does not say (default 2). */
  readonly desiredCount: number;
  /** Milliseconds between rollout checks. */
  readonly pollMs?: number;
  readonly onEvent?: (event: ServiceEvent) => void;
}

/** ELBv2 target health keyed by target port (every task has its own port on 127.0.0.1). */
/**
 * CPU weight of a task until its target is healthy (Docker's lowest is 2; serving tasks have
 * 1024). The tasks share this machine's cores, so a starting task (Apache, PHP, the opcache
 * warm-up) would otherwise take CPU from the tasks serving the site; on Fargate each task has
 * its own. With the weight it takes only what they leave idle, and its own CPU limit.
 */
export const STARTING_CPU_SHARES = 2;

function healthByPort(targets: readonly TargetHealthDescription[]): Map<number, string> {
  return new Map(targets.map((t) => [t.Target?.Port ?? 0, t.TargetHealth?.State ?? 'unknown']));
}

/**
 * The local ECS service scheduler. `update` records a new PRIMARY deployment and rolls it out
 * in the background the way ECS does with minimum healthy 100%: start the new tasks, register
 * them with the load balancer (where they get no traffic until they pass its health checks),
 * and only when every new task is healthy drain, deregister and stop the old ones; then the
 * deployment is COMPLETED. A task that stops mid-rollout is not replaced, so the health gate
 * sees it and fails fast. A newer deployment supersedes an unfinished one, whose tasks it then
 * drains like any old task.
 */
export class LocalService {
  private readonly opts: LocalServiceOptions;
  private readonly rollouts = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(opts: LocalServiceOptions) {
    this.opts = opts;
  }

  private emit(event: ServiceEvent): void {
    this.opts.onEvent?.(event);
  }

  private table() {
    return serviceTable(this.opts.stateDir);
  }

  /** The service record with its deployments, or undefined before the first deployment. */
  async describe(): Promise<LocalServiceState | undefined> {
    return (await this.table().get({ serviceName: this.opts.service })) as
      | LocalServiceState
      | undefined;
  }

  /** The deployments in the shape ECS DescribeServices returns them. */
  async ecsDeployments(): Promise<Deployment[]> {
    const state = await this.describe();
    const tasks = await this.tasks();
    return (state?.deployments ?? []).map((d) => ({
      id: d.id,
      status: d.status,
      taskDefinition: d.taskDefinition,
      desiredCount: d.desiredCount,
      runningCount: tasks.filter(
        (t) => t.taskDefinitionArn === d.taskDefinition && t.lastStatus === 'RUNNING',
      ).length,
      pendingCount: tasks.filter(
        (t) => t.taskDefinitionArn === d.taskDefinition && t.lastStatus === 'PENDING',
      ).length,
      rolloutState: d.rolloutState,
      rolloutStateReason: d.rolloutStateReason,
      failedTasks: d.failedTasks ?? 0,
      createdAt: new Date(d.createdAt),
      updatedAt: new Date(d.updatedAt),
      launchType: 'FARGATE',
    }));
  }

  /** Every task of the service (running and stopped), newest first. */
  tasks(): Promise<LocalTask[]> {
    return listTasks({ stateDir: this.opts.stateDir, service: this.opts.service });
  }

  /** The tasks in the shape ECS DescribeTasks returns them. */
  async ecsTasks(): Promise<Task[]> {
    return (await this.tasks()).map((t) => toEcsTask(t));
  }

  /**
   * Like ECS UpdateService: points the service at `taskDefinitionArn` with a new PRIMARY
   * deployment and starts rolling it out. Idempotent: when the PRIMARY deployment already
   * carries that revision it is returned (and its rollout resumed if this process has none).
   */
  async update(
    taskDefinitionArn: string,
    opts: { readonly desiredCount?: number; readonly releaseId?: string } = {},
  ): Promise<LocalDeployment> {
    await this.opts.taskDefinitions.describe(taskDefinitionArn);
    const now = new Date().toISOString();
    let created = false;
    const state = (await this.table().update({ serviceName: this.opts.service }, (cur) => {
      const current = cur as LocalServiceState | undefined;
      const primary = current?.deployments?.find((d) => d.status === 'PRIMARY');
      if (
        current &&
        primary?.taskDefinition === taskDefinitionArn &&
        primary.rolloutState !== 'FAILED'
      ) {
        return current;
      }
      created = true;
      const desiredCount = opts.desiredCount ?? current?.desiredCount ?? this.opts.desiredCount;
      const deployment: LocalDeployment = {
        id: `ecs-svc/${BigInt(`0x${randomBytes(8).toString('hex')}`)
          .toString()
          .padStart(19, '0')
          .slice(0, 19)}`,
        status: 'PRIMARY',
        taskDefinition: taskDefinitionArn,
        desiredCount,
        rolloutState: 'IN_PROGRESS',
        rolloutStateReason: 'ECS deployment in progress.',
        createdAt: now,
        updatedAt: now,
      };
      return {
        serviceName: this.opts.service,
        taskDefinition: taskDefinitionArn,
        desiredCount,
        updatedAt: now,
        deployments: [
          ...(current?.deployments ?? []).map((d) => ({ ...d, status: 'ACTIVE' as const })),
          deployment,
        ],
      };
    })) as LocalServiceState;
    const primary = state.deployments?.find((d) => d.status === 'PRIMARY') as LocalDeployment;
    if (created)
      this.emit({
        type: 'deployment-created',
        at: Date.now(),
        deploymentId: primary.id,
        taskDefinition: taskDefinitionArn,
      });
    if (primary.rolloutState !== 'COMPLETED' && !this.rollouts.has(primary.id)) {
      this.startRollout(primary, opts.releaseId ?? 'local');
    }
    return primary;
  }

  /**
   * Makes the PRIMARY deployment run again after a restart of the stack (e.g. `down --keep-data`
   * then `up`): when fewer of its tasks run than desired it is rolled out anew.
   */
  async ensureRunning(): Promise<LocalDeployment | undefined> {
    const state = await this.describe();
    const primary = state?.deployments?.find((d) => d.status === 'PRIMARY');
    if (!state || !primary) return undefined;
    const running = (await this.tasks()).filter(
      (t) => t.taskDefinitionArn === primary.taskDefinition && t.lastStatus === 'RUNNING',
    );
    if (running.length >= primary.desiredCount && primary.rolloutState === 'COMPLETED') {
      for (const t of running) await this.opts.loadBalancer.addTarget({ id: t.name, port: t.port });
      return primary;
    }
    await this.table().update({ serviceName: this.opts.service }, (cur) => ({
      ...(cur as LocalServiceState),
      deployments: (cur as LocalServiceState).deployments?.map((d) =>
        d.id === primary.id
          ? { ...d, rolloutState: 'IN_PROGRESS', updatedAt: new Date().toISOString() }
          : d,
      ),
    }));
    const resumed = { ...primary, rolloutState: 'IN_PROGRESS' as const };
    if (!this.rollouts.has(primary.id)) this.startRollout(resumed, 'local');
    return resumed;
  }

  /** Resolves when the deployment is COMPLETED; rejects when it is superseded or the time runs out. */
  async waitForSteady(deploymentId: string, timeoutMs = 300_000): Promise<void> {
    await pollUntil(
      async () => {
        const state = await this.describe();
        const dep = state?.deployments?.find((d) => d.id === deploymentId);
        if (dep?.rolloutState === 'COMPLETED') return true;
        if (dep?.status !== 'PRIMARY')
          throw new Error(`deployment ${deploymentId} was replaced before it completed`);
        return false;
      },
      {
        intervalMs: this.opts.pollMs ?? 250,
        timeoutMs,
        description: `deployment ${deploymentId} to complete`,
        onTimeout: async () => {
          const tasks = await this.tasks();
          const health = await this.opts.loadBalancer.describeTargetHealth();
          throw new Error(
            `deployment ${deploymentId} did not complete in ${Math.round(timeoutMs / 1000)}s: tasks ${tasks
              .map(
                (t) => `${t.name} ${t.lastStatus}${t.stoppedReason ? ` (${t.stoppedReason})` : ''}`,
              )
              .join(', ')}; targets ${health
              .map((h) => `${h.Target?.Id}:${h.Target?.Port} ${h.TargetHealth?.State}`)
              .join(', ')}`,
          );
        },
      },
    );
  }

  /** Waits for every rollout this process runs to end (completed or superseded). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.rollouts.values()]);
  }

  /** Stops the background rollouts of this process at their next check. */
  stop(): void {
    this.stopped = true;
  }

  private startRollout(deployment: LocalDeployment, releaseId: string): void {
    const run = this.rollout(deployment, releaseId)
      .catch((err: unknown) => {
        this.emit({
          type: 'rollout-error',
          at: Date.now(),
          deploymentId: deployment.id,
          message: err instanceof Error ? err.message : String(err),
        });
      })
      .finally(() => this.rollouts.delete(deployment.id));
    this.rollouts.set(deployment.id, run);
  }

  private async isPrimary(deploymentId: string): Promise<boolean> {
    const state = await this.describe();
    return (
      state?.deployments?.some((d) => d.id === deploymentId && d.status === 'PRIMARY') ?? false
    );
  }

  /** How long a deregistering target may keep its connections (the target group's delay). */
  private deregistrationDelayMs(): number {
    const lb = this.opts.loadBalancer as LoadBalancer & { deregistrationDelayMs?: number };
    return lb.deregistrationDelayMs ?? 30_000;
  }

  private async recordFailedTask(deploymentId: string): Promise<number> {
    let failed = 0;
    await this.table().update({ serviceName: this.opts.service }, (cur) => {
      const state = cur as LocalServiceState;
      return {
        ...state,
        deployments: state.deployments?.map((d) => {
          if (d.id !== deploymentId) return d;
          failed = (d.failedTasks ?? 0) + 1;
          return { ...d, failedTasks: failed, updatedAt: new Date().toISOString() };
        }),
      };
    });
    return failed;
  }

  private async startTask(
    deployment: LocalDeployment,
    td: TaskDefinition,
    releaseId: string,
    mine: Set<string>,
    kind: 'task-started' | 'task-replaced',
  ): Promise<void> {
    const task = await runTask(
      runInputFromTaskDefinition(td, {
        stateDir: this.opts.stateDir,
        service: this.opts.service,
        releaseId,
        portBase: this.opts.portBase,
        startingCpuShares: STARTING_CPU_SHARES,
      }),
    );
    // Superseded while the container started: it never served, so it goes at once (the
    // newer deployment may already have drained what it saw).
    if (this.stopped || !(await this.isPrimary(deployment.id))) {
      await removeTask(this.opts.stateDir, task);
      return;
    }
    mine.add(task.name);
    await this.opts.loadBalancer.addTarget({ id: task.name, port: task.port });
    this.emit({
      type: kind,
      at: Date.now(),
      deploymentId: deployment.id,
      task: task.name,
      port: task.port,
    });
  }

  /**
   * Like the ECS service scheduler for one task of the PRIMARY deployment: a task that stopped,
   * failed its container health check or whose target the load balancer calls unhealthy is a
   * failed task. It leaves the load balancer, counts toward the deployment's `failedTasks`
   * (what the health gate's circuit breaker reads) and is replaced until that count reaches
   * the failed-task threshold. The stopped container stays (as ECS keeps stopped tasks
   * visible) until the deployment drains it, so the gate can read why it stopped.
   */
  private async replaceFailedTasks(
    deployment: LocalDeployment,
    td: TaskDefinition,
    releaseId: string,
    mine: Set<string>,
    health: Map<number, string>,
    adopted: ReadonlySet<string>,
  ): Promise<void> {
    const lb = this.opts.loadBalancer;
    const tasks = (await this.tasks()).filter((t) => mine.has(t.name));
    for (const t of tasks) {
      const why = failedTaskReason(t, health.get(t.port), lb.healthCheck.startGraceMs ?? 0);
      if (!why) continue;
      mine.delete(t.name);
      await lb.removeTarget(t.name, { timeoutMs: this.deregistrationDelayMs() });
      if (t.lastStatus !== 'STOPPED')
        await stopTask(this.opts.stateDir, t, why).catch(() => undefined);
      // Like ECS's circuit breaker, only tasks this deployment launched count against it.
      const failed = adopted.has(t.name)
        ? (deployment.failedTasks ?? 0)
        : await this.recordFailedTask(deployment.id);
      this.emit({
        type: 'task-failed',
        at: Date.now(),
        deploymentId: deployment.id,
        task: t.name,
        reason: t.stoppedReason ?? why,
        failedTasks: failed,
      });
      if (failed >= defaultFailedTaskThreshold(deployment.desiredCount)) continue;
      if (this.stopped || !(await this.isPrimary(deployment.id))) return;
      await this.startTask(deployment, td, releaseId, mine, 'task-replaced');
    }
  }

  private async rollout(deployment: LocalDeployment, releaseId: string): Promise<void> {
    const lb = this.opts.loadBalancer;
    const td = await this.opts.taskDefinitions.describe(deployment.taskDefinition);

    // Tasks of this revision that already run count towards the deployment (a rollback to a
    // revision whose tasks were never drained needs to start nothing).
    const adopted = (await this.tasks()).filter(
      (t) =>
        t.taskDefinitionArn === deployment.taskDefinition &&
        t.desiredStatus === 'RUNNING' &&
        t.lastStatus !== 'STOPPED',
    );
    const mine = new Set(adopted.map((t) => t.name));
    const adoptedNames: ReadonlySet<string> = new Set(mine);
    for (const t of adopted) {
      await lb.addTarget({ id: t.name, port: t.port });
      this.emit({
        type: 'task-adopted',
        at: Date.now(),
        deploymentId: deployment.id,
        task: t.name,
      });
    }
    // Started side by side, as ECS places a deployment's tasks at once.
    const missing = Math.max(0, deployment.desiredCount - adopted.length);
    if (this.stopped || !(await this.isPrimary(deployment.id))) return;
    await Promise.all(
      Array.from({ length: missing }, () =>
        this.startTask(deployment, td, releaseId, mine, 'task-started'),
      ),
    );

    // Wait until every task of the deployment runs and its target is healthy, replacing the
    // tasks that fail on the way.
    for (;;) {
      if (this.stopped) return;
      if (!(await this.isPrimary(deployment.id))) {
        this.emit({ type: 'deployment-superseded', at: Date.now(), deploymentId: deployment.id });
        return;
      }
      const health = healthByPort(await lb.describeTargetHealth());
      await this.replaceFailedTasks(deployment, td, releaseId, mine, health, adoptedNames);
      const tasks = (await this.tasks()).filter((t) => mine.has(t.name));
      for (const t of tasks) if (health.get(t.port) === 'healthy') await promoteTask(t);
      const ready =
        tasks.length >= deployment.desiredCount &&
        tasks.every((t) => t.lastStatus === 'RUNNING' && health.get(t.port) === 'healthy');
      if (ready) break;
      await sleep(this.opts.pollMs ?? 250);
    }
    this.emit({ type: 'tasks-healthy', at: Date.now(), deploymentId: deployment.id });

    // Only now do the old tasks leave: drained first, so no request in flight is cut.
    const others = (await this.tasks()).filter((t) => !mine.has(t.name));
    const names = others.map((t) => t.name);
    this.emit({ type: 'drain-started', at: Date.now(), deploymentId: deployment.id, tasks: names });
    const delay = this.deregistrationDelayMs();
    const live = others.filter((t) => t.lastStatus !== 'STOPPED');
    await Promise.all(live.map((t) => lb.drainTarget(t.name, { timeoutMs: delay })));
    // Side by side: the load balancer serialises its target-list writes under a lock.
    await Promise.all(others.map((t) => lb.removeTarget(t.name, { timeoutMs: delay })));
    // Servers left behind by an interrupted earlier run belong to no task at all.
    const existing = new Set((await this.tasks()).map((t) => t.name));
    for (const server of await lb.servers()) {
      if (!mine.has(server.name) && !existing.has(server.name)) await lb.removeTarget(server.name);
    }
    await Promise.all(
      others.map(async (t) => {
        if (t.lastStatus !== 'STOPPED')
          await stopTask(
            this.opts.stateDir,
            t,
            `Scaling activity initiated by (deployment ${deployment.id})`,
          ).catch(() => undefined);
        await removeTask(this.opts.stateDir, t);
      }),
    );
    this.emit({
      type: 'drain-finished',
      at: Date.now(),
      deploymentId: deployment.id,
      tasks: names,
    });

    const now = new Date().toISOString();
    let completed = false;
    await this.table().update({ serviceName: this.opts.service }, (cur) => {
      const state = cur as LocalServiceState;
      const ours = state.deployments?.find((d) => d.id === deployment.id);
      if (ours?.status !== 'PRIMARY') return state;
      completed = true;
      return {
        ...state,
        updatedAt: now,
        deployments: [
          {
            ...ours,
            rolloutState: 'COMPLETED',
            rolloutStateReason: `ECS deployment ${deployment.id} completed.`,
            updatedAt: now,
          },
        ],
      };
    });
    if (!completed) return;
    this.emit({ type: 'deployment-completed', at: Date.now(), deploymentId: deployment.id });

    // Steady state: keep the desired count as long as this process runs the service.
    while (!this.stopped && (await this.isPrimary(deployment.id))) {
      const health = healthByPort(await lb.describeTargetHealth());
      await this.replaceFailedTasks(deployment, td, releaseId, mine, health, adoptedNames);
      for (const t of await this.tasks()) {
        if (mine.has(t.name)) continue;
        if (t.lastStatus === 'STOPPED') {
          // A failed task stays visible to the gate for a while, then goes like any old task.
          if (stoppedLongAgo(t)) await removeTask(this.opts.stateDir, t);
          continue;
        }
        // A task no deployment owns (started by one that was superseded as it started it):
        // the service converges on its PRIMARY deployment's tasks only.
        await lb.drainTarget(t.name, { timeoutMs: this.deregistrationDelayMs() });
        await lb.removeTarget(t.name, { timeoutMs: this.deregistrationDelayMs() });
        await stopTask(
          this.opts.stateDir,
          t,
          `Scaling activity initiated by (deployment ${deployment.id})`,
        ).catch(() => undefined);
        await removeTask(this.opts.stateDir, t);
      }
      await sleep(this.opts.pollMs ?? 250);
    }
  }
}

/** Stopped tasks stay listed this long, as ECS keeps them describable after they stop. */
const STOPPED_TASK_VISIBLE_MS = 60_000;

function stoppedLongAgo(t: LocalTask, now = Date.now()): boolean {
  const at = t.stoppedAt ? Date.parse(t.stoppedAt) : Number.NaN;
  return Number.isFinite(at) && now - at > STOPPED_TASK_VISIBLE_MS;
}

/**
 * Why the ECS scheduler would count this task of the PRIMARY deployment as failed, or
 * undefined while it is fine or still starting: it stopped, its container health check says
 * UNHEALTHY, or the load balancer marked its target unhealthy (ECS stops such tasks; the
 * load balancer applies its own thresholds and the start grace first). Pure.
 */
export function failedTaskReason(
  task: Pick<LocalTask, 'lastStatus' | 'stoppedReason' | 'startedAt'> & {
    readonly healthStatus?: string;
  },
  targetHealth: string | undefined,
  gracePeriodMs = 0,
  now = Date.now(),
): string | undefined {
  if (task.lastStatus === 'STOPPED') return task.stoppedReason ?? 'Task stopped';
  if (task.healthStatus === 'UNHEALTHY') return 'Task failed container health checks';
  // Like the service's healthCheckGracePeriodSeconds: ELB health is ignored while a task starts.
  const started = task.startedAt ? Date.parse(task.startedAt) : Number.NaN;
  const pastGrace = Number.isFinite(started) && now - started >= gracePeriodMs;
  if (task.lastStatus === 'RUNNING' && targetHealth === 'unhealthy' && pastGrace)
    return 'Task failed ELB health checks in (target-group local:haproxy/app)';
  return undefined;
}
