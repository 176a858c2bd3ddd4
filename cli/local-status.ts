/**
 * `stepdeploy local status`, apart from the other local commands so that it loads only what
 * reading the state takes (no runner, builder or database client).
 */
import { type LockItem, type QueueItem, queueKey, releaseQueueView } from '#commons/lock.ts';
import { type LocalConfig, loadConfig } from '#local/config.ts';
import {
  containersByLabel,
  inspectContainers,
  LABEL_MANAGED,
  LABEL_REVISION,
  LABEL_ROLE,
  LABEL_SERVICE,
} from '#local/docker.ts';
import { LoadBalancer } from '#local/load-balancer.ts';
import { holderGone } from '#local/lock-holder.ts';
import type { LocalServiceState } from '#local/scheduler.ts';
import { ledgerTable, lockTable } from '#local/steps/context.ts';
import { serviceTable } from '#local/task-definitions.ts';
import { listTasks } from '#local/tasks.ts';
import { toLedgerEntry } from './ledger.ts';
import { renderHistory } from './render/history.ts';
import { queueLines } from './render/queue.ts';
import { table } from './render/text.ts';
import type { CliDeps } from './runtime.ts';

/**
 * The service's containers as `status()` in local/stack.ts lists ours, and its tasks. Not that
 * function: local/stack.ts also brings the stack up, and importing it loads the state machine
 * runner, the MariaDB client and every step handler, which took 0.6 s on a 2-CPU machine,
 * more than this whole command is allowed. Every task container is one of the service's
 * containers, so when there are none, one `docker ps` answers both.
 */
async function containersAndTasks(config: LocalConfig) {
  const ids = await containersByLabel({ [LABEL_MANAGED]: 'true', [LABEL_SERVICE]: config.service });
  if (ids.length === 0) return { containers: [], tasks: [] };
  const [containers, tasks] = await Promise.all([
    inspectContainers(ids),
    listTasks({ stateDir: config.stateDir, service: config.service }),
  ]);
  return {
    containers: containers.map((c) => ({
      name: c.Name.replace(/^\//, ''),
      role: c.Config.Labels?.[LABEL_ROLE] ?? '',
      service: c.Config.Labels?.[LABEL_SERVICE] ?? '',
      state: c.State.Status,
      revision: c.Config.Labels?.[LABEL_REVISION],
    })),
    tasks,
  };
}

async function localStatus(deps: CliDeps) {
  const config = loadConfig({}, deps.env);
  const locks = lockTable(config.stateDir);
  // Independent reads: together they take as long as the slowest (docker's).
  const [{ containers, tasks }, service, record, lock, queue] = await Promise.all([
    containersAndTasks(config),
    ledgerTable(config.stateDir)
      .query(config.service, {})
      .then((items) => items ?? [])
      .catch(() => []),
    serviceTable(config.stateDir).get({ serviceName: config.service }) as Promise<
      LocalServiceState | undefined
    >,
    locks.get({ service: config.service }).catch(() => undefined),
    locks.get({ service: queueKey(config.service) }).catch(() => undefined),
  ]);
  const lbRunning = containers.some((c) => c.role === 'load-balancer' && c.state === 'running');
  const targets = lbRunning
    ? await new LoadBalancer({
        service: config.service,
        stateDir: config.stateDir,
        port: config.sitePort,
      })
        .describeTargetHealth()
        .catch(() => [])
    : [];
  const health = new Map(targets.map((t) => [t.Target?.Port, t.TargetHealth]));
  const interrupted = lock !== undefined && holderGone(lock);
  const releases = service
    .map(toLedgerEntry)
    .sort((a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? ''))
    .slice(0, 5);
  return {
    up: lbRunning,
    siteUrl: `http://127.0.0.1:${config.sitePort}`,
    stateDir: config.stateDir,
    service: record
      ? {
          name: record.serviceName,
          taskDefinition: record.taskDefinition,
          revision: record.taskDefinition.split(':').pop(),
          desiredCount: record.desiredCount,
          deployments: record.deployments ?? [],
        }
      : null,
    tasks: tasks.map((t) => ({
      name: t.name,
      revision: t.revision,
      lastStatus: t.lastStatus,
      port: t.port,
      targetHealth: health.get(t.port)?.State ?? 'unregistered',
      reason: health.get(t.port)?.Reason ?? t.stoppedReason ?? null,
    })),
    containers,
    // A lock whose stepdeploy process is gone holds nothing: the next release takes it over.
    lock: releaseQueueView(
      interrupted ? undefined : (lock as LockItem | undefined),
      queue as unknown as QueueItem | undefined,
      deps.now(),
    ),
    interrupted: interrupted
      ? { releaseId: String(lock?.holder), pid: Number(lock?.holderPid) }
      : null,
    releases,
  };
}

/** Prints the service revision, its tasks and their target health, and the last releases. */
export async function statusCommand(
  deps: CliDeps,
  flags: { readonly json?: boolean },
): Promise<void> {
  const s = await localStatus(deps);
  if (flags.json) {
    deps.io.out(JSON.stringify(s, null, 2));
    return;
  }
  const lines = [
    s.up ? `Local stack up: ${s.siteUrl}` : `Local stack is not running (state: ${s.stateDir})`,
    `  service   ${s.service ? `${s.service.name} on revision ${s.service.revision} (${s.service.desiredCount} desired)` : 'not created (run `stepdeploy local up`)'}`,
    ...queueLines(s.lock),
    ...(s.interrupted
      ? [
          `  interrupted ${s.interrupted.releaseId}: its stepdeploy process (pid ${s.interrupted.pid}) is gone; the next release takes over its lock and deploys over what it left`,
        ]
      : []),
    '',
    s.tasks.length === 0
      ? '  no tasks'
      : table(
          ['TASK', 'REVISION', 'STATUS', 'PORT', 'TARGET'],
          s.tasks.map((t) => [
            t.name,
            String(t.revision),
            t.lastStatus,
            String(t.port),
            `${t.targetHealth}${t.reason ? ` (${t.reason})` : ''}`,
          ]),
        ),
    '',
    renderHistory(s.releases),
  ];
  deps.io.out(lines.join('\n'));
}
