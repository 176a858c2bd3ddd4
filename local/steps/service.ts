import { randomBytes } from 'node:crypto';
import type { Deployment, Task } from '@aws-sdk/client-ecs';
import type { TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { LoadBalancer } from '../load-balancer.ts';
import { type ServiceRecord, serviceTable, type TaskDefinitionStore } from '../task-definitions.ts';
import {
  type LocalTask,
  listTasks,
  removeTask,
  runInputFromTaskDefinition,
  runTask,
  stopTask,
  toEcsTask,
} from '../tasks.ts';

/** One deployment of the local service, shaped after ECS `Deployment`. */
export interface LocalDeployment extends Record<string, unknown> {
  readonly id: string;
  readonly status: 'PRIMARY' | 'ACTIVE';
  readonly taskDefinition: string;
  readonly desiredCount: number;
  readonly rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  readonly rolloutStateReason: string;
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** ELBv2 target health keyed by target port (every task has its own port on 127.0.0.1). */
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
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await this.describe();
      const dep = state?.deployments?.find((d) => d.id === deploymentId);
      if (dep?.rolloutState === 'COMPLETED') return;
      if (dep?.status !== 'PRIMARY')
        throw new Error(`deployment ${deploymentId} was replaced before it completed`);
      if (Date.now() > deadline) {
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
      }
      await sleep(this.opts.pollMs ?? 250);
    }
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
    for (const t of adopted) {
      await lb.addTarget({ id: t.name, port: t.port });
      this.emit({
        type: 'task-adopted',
        at: Date.now(),
        deploymentId: deployment.id,
        task: t.name,
      });
    }
    for (let i = adopted.length; i < deployment.desiredCount; i++) {
      if (this.stopped || !(await this.isPrimary(deployment.id))) return;
      const task = await runTask(
        runInputFromTaskDefinition(td, {
          stateDir: this.opts.stateDir,
          service: this.opts.service,
          releaseId,
          portBase: this.opts.portBase,
        }),
      );
      mine.add(task.name);
      await lb.addTarget({ id: task.name, port: task.port });
      this.emit({
        type: 'task-started',
        at: Date.now(),
        deploymentId: deployment.id,
        task: task.name,
        port: task.port,
      });
    }

    // Wait until every task of the deployment runs and its target is healthy.
    for (;;) {
      if (this.stopped) return;
      if (!(await this.isPrimary(deployment.id))) {
        this.emit({ type: 'deployment-superseded', at: Date.now(), deploymentId: deployment.id });
        return;
      }
      const tasks = (await this.tasks()).filter((t) => mine.has(t.name));
      const health = healthByPort(await lb.describeTargetHealth());
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
    const live = others.filter((t) => t.lastStatus !== 'STOPPED');
    await Promise.all(live.map((t) => lb.drainTarget(t.name, { timeoutMs: 30_000 })));
    // Side by side: the load balancer serialises its target-list writes under a lock.
    await Promise.all(others.map((t) => lb.removeTarget(t.name, { timeoutMs: 30_000 })));
    // Servers left behind by an interrupted earlier run belong to no task: deregister them too.
    const known = new Set([...mine, ...names]);
    for (const server of await lb.servers()) {
      const id = server.name;
      if (!known.has(id) && !(await this.tasks()).some((t) => t.name === id))
        await lb.removeTarget(id);
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
    if (completed)
      this.emit({ type: 'deployment-completed', at: Date.now(), deploymentId: deployment.id });
  }
}
