/**
 * Times one good local release through the release state machine and splits it into build,
 * snapshot, register, rollout, health gate and drain (from the runner's event stream and the
 * local service's events), next to the physical floor of the health gate: how long a fresh
 * container takes to answer /healthz plus HAProxy's rise × inter. Writes
 * bench/results/local-release.json and prints the ratios.
 *
 *   npx tsx bench/local-release.ts            (own service/ports/state dir; removed at the end)
 *   BENCH_KEEP=1 npx tsx bench/local-release.ts   (keep the stack for inspection)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pollUntil } from '#commons/wait.ts';
import { bootstrapService } from '#local/bootstrap.ts';
import { loadConfig, PROJECT_ROOT } from '#local/config.ts';
import { LOCAL_RELEASE_OPTIONS, localPollMs, runLocalRelease } from '#local/release.ts';
import type { ServiceEvent } from '#local/scheduler.ts';
import { down, up } from '#local/stack.ts';
import { releaseDefinition } from '#local/synth.ts';
import { TaskDefinitionStore } from '#local/task-definitions.ts';
import { removeTask, runInputFromTaskDefinition, runTask } from '#local/tasks.ts';

const env = {
  STEPDEPLOY_HOME: process.env.BENCH_HOME ?? `/tmp/sd-bench-local-${process.pid}`,
  STEPDEPLOY_SERVICE: 'lbench',
  STEPDEPLOY_SITE_PORT: '18280',
  STEPDEPLOY_REGISTRY_PORT: '15200',
  STEPDEPLOY_DB_PORT: '23506',
  STEPDEPLOY_TASK_PORT_BASE: '28200',
};

const log = (line: string) => process.stderr.write(`• ${line}\n`);

function between(
  events: readonly ServiceEvent[],
  deploymentId: string,
  from: ServiceEvent['type'],
  to: ServiceEvent['type'],
): number | undefined {
  const a = events.find((e) => e.deploymentId === deploymentId && e.type === from);
  const b = events.find((e) => e.deploymentId === deploymentId && e.type === to);
  return a && b ? b.at - a.at : undefined;
}

/** Milliseconds from `docker run` of the image to the first 200 from its /healthz on 127.0.0.1. */
async function containerReadyMs(
  stateDir: string,
  service: string,
  taskDefinitionArn: string,
  portBase: number,
): Promise<number> {
  const td = await new TaskDefinitionStore(stateDir).describe(taskDefinitionArn);
  const started = Date.now();
  const task = await runTask(
    runInputFromTaskDefinition(td, {
      stateDir,
      service,
      releaseId: 'bench-probe',
      portBase: portBase + 50,
    }),
  );
  try {
    return await pollUntil(
      async () => {
        try {
          const res = await fetch(`http://127.0.0.1:${task.port}/healthz`, {
            signal: AbortSignal.timeout(1000),
          });
          if (res.status === 200) return Date.now() - started;
        } catch {
          // not listening yet
        }
        return undefined;
      },
      { intervalMs: 50, timeoutMs: 120_000, description: 'the probe container to answer /healthz' },
    );
  } finally {
    await removeTask(stateDir, task);
  }
}

async function main(): Promise<void> {
  const config = loadConfig({}, { ...process.env, ...env });
  const stack = await up({ ...config, log });
  try {
    const definition = await releaseDefinition(config.stateDir, log);
    const boot = await bootstrapService(stack, { log });
    log(`service on ${boot.taskDefinitionArn.split('/').pop()}; releasing`);
    const serviceEvents: ServiceEvent[] = [];
    const label = `bench-${Date.now().toString(36)}`;
    const result = await runLocalRelease(
      stack,
      definition,
      { source: { kind: 'revision', label }, startedBy: 'bench/local-release.ts' },
      { onServiceEvent: (e) => serviceEvents.push(e), note: (line) => log(line) },
    );
    if (result.outcome !== 'SUCCEEDED')
      throw new Error(`the bench release ended ${result.outcome}: ${result.cause}`);
    const d = result.durationsMs;
    const deployment =
      serviceEvents.find((e) => e.type === 'deployment-created')?.deploymentId ?? '';
    const taskDefinitionArn = result.record?.taskDefinitionArn ?? '';
    const readyMs = await containerReadyMs(
      config.stateDir,
      config.service,
      taskDefinitionArn,
      config.taskPortBase,
    );
    const hc = stack.loadBalancer.healthCheck;
    const floorMs = readyMs + hc.rise * hc.intervalMs;
    const phases = {
      build: d.BuildImage ?? 0,
      snapshot: (d.SnapshotDatabase ?? 0) + (d.WaitForSnapshot ?? 0) + (d.CheckSnapshot ?? 0),
      register: d.RegisterTaskDefinition ?? 0,
      rollout: between(serviceEvents, deployment, 'deployment-created', 'tasks-healthy') ?? 0,
      healthGate: (d.WaitForHealth ?? 0) + (d.CheckHealth ?? 0),
      drain: between(serviceEvents, deployment, 'drain-started', 'drain-finished') ?? 0,
      smokeTest: d.SmokeTest ?? 0,
      total: result.progress.durationMs ?? 0,
    };
    const ratios = {
      rolloutOverFloor: phases.rollout / floorMs,
      healthGateOverFloor: phases.healthGate / floorMs,
      healthGateOverRollout: phases.healthGate / Math.max(1, phases.rollout + phases.drain),
      buildShareOfTotal: phases.build / Math.max(1, phases.total),
    };
    const out = {
      benchmark: 'local-release',
      at: new Date().toISOString(),
      release: {
        executionName: result.executionName,
        releaseId: result.releaseId,
        taskDefinitionArn,
      },
      settings: {
        // What the local runner waited between polls (the input carries whole seconds).
        pollMs: localPollMs({}, hc.intervalMs),
        pollIntervalSeconds: result.input.options?.pollIntervalSeconds,
        requiredHealthyPolls: result.input.options?.requiredHealthyPolls,
        maxUnhealthyPolls: LOCAL_RELEASE_OPTIONS.maxUnhealthyPolls,
        haproxy: {
          rise: hc.rise,
          intervalMs: hc.intervalMs,
          fall: hc.fall,
          timeoutMs: hc.timeoutMs,
        },
        desiredCount: 2,
      },
      phasesMs: phases,
      floorMs: {
        containerReady: readyMs,
        haproxyRise: hc.rise * hc.intervalMs,
        healthGate: floorMs,
      },
      ratios,
      stepsMs: d,
    };
    const dir = join(PROJECT_ROOT, 'bench', 'results');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'local-release.json'), `${JSON.stringify(out, null, 2)}\n`);
    const s = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
    console.log('local release (good, 2 tasks)');
    for (const [name, ms] of Object.entries(phases)) console.log(`  ${name.padEnd(11)} ${s(ms)}`);
    console.log(
      `  floor       ${s(floorMs)} (container ready ${s(readyMs)} + rise ${hc.rise} × inter ${hc.intervalMs}ms)`,
    );
    for (const [name, value] of Object.entries(ratios))
      console.log(`  ${name.padEnd(22)} ${value.toFixed(2)}`);
    console.log('  written to bench/results/local-release.json');
  } finally {
    if (!process.env.BENCH_KEEP) await down({ ...config });
  }
}

await main();
