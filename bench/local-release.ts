/**
 * Times one good local release under load and splits its rollout into what a visitor feels:
 * "first new task serving", "all new tasks serving" and "old tasks gone", each against its
 * floor from the target group settings the local HAProxy plays (the template's, scaled by
 * STEPDEPLOY_TIME_FACTOR): a fresh container's ready time + healthy threshold × interval, plus
 * the deregistration delay for the old tasks. The health gate's pass is set against the last
 * floor too, and the execution's state transitions against its rollout time.
 *
 * Steps: a private stack, a bootstrap, a first release (it installs WordPress, so the home
 * page is the installed site's), the capacity at rest (bench/lib/capacity.ts, as the faults
 * section measures it), then the measured release of a changed site/ under a fixed load at
 * `--fraction` (0.5) of that capacity, then a probe container of the new image under the same
 * load at a starting task's CPU weight (the ready time of the floor). Moments come from the
 * scheduler's events, HAProxy's check log and the execution's events, never from sleeps.
 * Writes bench/results/local-release.json.
 *
 *   npx tsx bench/local-release.ts [--fraction 0.5] [--capacity-budget-s 240]
 *   BENCH_KEEP=1 npx tsx bench/local-release.ts   (keep the stack for inspection)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pollUntil } from '#commons/wait.ts';
import { bootstrapService } from '#local/bootstrap.ts';
import { loadConfig, PROJECT_ROOT } from '#local/config.ts';
import { LOCAL_RELEASE_OPTIONS, localPollMs, runLocalRelease } from '#local/release.ts';
import { countTransitions } from '#local/runner.ts';
import { type ServiceEvent, STARTING_CPU_SHARES } from '#local/scheduler.ts';
import { down, up } from '#local/stack.ts';
import { releaseDefinition } from '#local/synth.ts';
import { TaskDefinitionStore } from '#local/task-definitions.ts';
import { removeTask, runInputFromTaskDefinition, runTask } from '#local/tasks.ts';
import { measureCapacity } from './lib/capacity.ts';
import { changedSiteSource } from './lib/fault-scenarios.ts';
import { type LoadResult, latencySummary, startLoad } from './lib/load.ts';
import { parseServerUps, rolloutFloors, rolloutPhases } from './lib/rollout-phases.ts';
import { round } from './lib/stats.ts';

const env = {
  STEPDEPLOY_HOME: process.env.BENCH_HOME ?? `/tmp/sd-bench-local-${process.pid}`,
  STEPDEPLOY_SERVICE: 'lbench',
  STEPDEPLOY_SITE_PORT: '18280',
  STEPDEPLOY_REGISTRY_PORT: '15200',
  STEPDEPLOY_DB_PORT: '23506',
  STEPDEPLOY_TASK_PORT_BASE: '28200',
};

const log = (line: string) => process.stderr.write(`• ${line}\n`);

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
      // As a new task of a rollout starts: at the lowest CPU weight (local/scheduler.ts).
      startingCpuShares: STARTING_CPU_SHARES,
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
  const { values } = parseArgs({
    options: {
      fraction: { type: 'string', default: '0.5' },
      'capacity-budget-s': { type: 'string', default: '240' },
    },
  });
  const fraction = Number(values.fraction);
  if (!(fraction > 0 && fraction <= 1))
    throw new Error(`--fraction must be in (0, 1], got ${values.fraction}`);
  const config = loadConfig({}, { ...process.env, ...env });
  const stack = await up({ ...config, log });
  try {
    const definition = await releaseDefinition(config.stateDir, log);
    const boot = await bootstrapService(stack, { log });
    log(`service on ${boot.taskDefinitionArn.split('/').pop()}; installing with a first release`);
    const install = await runLocalRelease(
      stack,
      definition,
      { source: { kind: 'revision', label: 'install' }, startedBy: 'bench/local-release.ts' },
      { note: (line) => log(`  ${line}`) },
    );
    if (install.outcome !== 'SUCCEEDED')
      throw new Error(`the install release ended ${install.outcome}: ${install.cause}`);
    const capacity = await measureCapacity({
      url: `${stack.loadBalancer.url}/`,
      budgetMs: Number(values['capacity-budget-s']) * 1000,
      log: (l) => log(`  ${l}`),
    });
    if (capacity.capacity <= 0)
      throw new Error(`the site held no tried rate at rest: ${capacity.trials.at(-1)?.why}`);
    const rate = round(fraction * capacity.capacity, 3);
    log(`capacity at rest ${capacity.capacity} req/s; releasing under ${rate} req/s`);

    const serviceEvents: ServiceEvent[] = [];
    const label = `bench-${Date.now().toString(36)}`;
    const sourceDir = await changedSiteSource(config.stateDir, label);
    const load = startLoad({
      url: `${stack.loadBalancer.url}/`,
      ratePerSecond: rate,
      maxRequests: 100_000,
      maxMs: 30 * 60_000,
      strict: true,
    });
    const releaseStarted = Date.now();
    let result: Awaited<ReturnType<typeof runLocalRelease>>;
    let readyMs: number;
    let loadResult: LoadResult;
    try {
      result = await runLocalRelease(
        stack,
        definition,
        { source: { kind: 'revision', label, sourceDir }, startedBy: 'bench/local-release.ts' },
        { onServiceEvent: (e) => serviceEvents.push(e), note: (line) => log(`  ${line}`) },
      );
      if (result.outcome !== 'SUCCEEDED')
        throw new Error(`the bench release ended ${result.outcome}: ${result.cause}`);
      // The floor's ready time, under the same load, at a starting task's CPU weight.
      readyMs = await containerReadyMs(
        config.stateDir,
        config.service,
        result.record?.taskDefinitionArn ?? '',
        config.taskPortBase,
      );
    } finally {
      loadResult = await load.stop();
    }
    const hc = stack.loadBalancer.healthCheck;
    const delayMs = stack.loadBalancer.deregistrationDelayMs;
    const desiredCount = 2;
    const phases = rolloutPhases({
      serviceEvents,
      ups: parseServerUps(await stack.loadBalancer.command('show events checks')),
      events: result.events as never,
      desiredCount,
    });
    if (!phases) throw new Error('the bench release created no deployment');
    const floors = rolloutFloors({
      containerReadyMs: readyMs,
      healthyThreshold: hc.rise,
      intervalMs: hc.intervalMs,
      deregistrationDelayMs: delayMs,
    });
    const d = result.durationsMs;
    const transitions = countTransitions(result.events);
    const drain = serviceEvents.filter(
      (e) => e.type === 'drain-started' || e.type === 'drain-finished',
    );
    const out = {
      benchmark: 'local-release',
      version: 2,
      at: new Date().toISOString(),
      release: {
        executionName: result.executionName,
        releaseId: result.releaseId,
        taskDefinitionArn: result.record?.taskDefinitionArn,
      },
      load: {
        fraction,
        ratePerSecond: rate,
        capacity: capacity.capacity,
        capacityEnded: capacity.ended,
        sent: loadResult.sent,
        failed: loadResult.failed,
        p99Ms: latencySummary(loadResult, { from: releaseStarted })?.p99 ?? null,
      },
      settings: {
        timeFactor: stack.loadBalancer.targetGroup.timeFactor,
        healthyThreshold: hc.rise,
        unhealthyThreshold: hc.fall,
        intervalMs: hc.intervalMs,
        timeoutMs: hc.timeoutMs,
        deregistrationDelayMs: delayMs,
        firstPollMs: localPollMs({}, hc.intervalMs),
        maxUnhealthyPolls: LOCAL_RELEASE_OPTIONS.maxUnhealthyPolls,
        requiredHealthyPolls: LOCAL_RELEASE_OPTIONS.requiredHealthyPolls,
        desiredCount,
      },
      floorsMs: { containerReady: readyMs, serving: floors.serving, gone: floors.gone },
      rolloutMs: {
        firstNewServing: phases.firstNewServingMs ?? null,
        allNewServing: phases.allNewServingMs ?? null,
        oldGone: phases.oldGoneMs ?? null,
        gatePassed: phases.gatePassedMs ?? null,
        drain:
          drain.length === 2 ? (drain[1] as ServiceEvent).at - (drain[0] as ServiceEvent).at : null,
      },
      transitions: { total: transitions, healthPolls: phases.healthPolls },
      phasesMs: {
        build: d.BuildImage ?? 0,
        snapshot: (d.SnapshotDatabase ?? 0) + (d.WaitForSnapshot ?? 0) + (d.CheckSnapshot ?? 0),
        register: d.RegisterTaskDefinition ?? 0,
        trial:
          (d.StartTrial ?? 0) + (d.WaitForTrial ?? 0) + (d.CheckTrial ?? 0) + (d.StopTrial ?? 0),
        healthGate: (d.WaitForHealth ?? 0) + (d.CheckHealth ?? 0),
        smokeTest: d.SmokeTest ?? 0,
        total: result.progress.durationMs ?? 0,
      },
      stepsMs: d,
    };
    const dir = join(PROJECT_ROOT, 'bench', 'results');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'local-release.json'), `${JSON.stringify(out, null, 2)}\n`);
    const s = (ms: number | null) => (ms === null ? '—' : `${(ms / 1000).toFixed(1)}s`);
    console.log(
      `local release (good, 2 tasks) under ${rate} req/s (${fraction} × ${capacity.capacity})`,
    );
    console.log(
      `  first new serving ${s(out.rolloutMs.firstNewServing)} / floor ${s(floors.serving)}`,
    );
    console.log(
      `  all new serving   ${s(out.rolloutMs.allNewServing)} / floor ${s(floors.serving)}`,
    );
    console.log(`  old tasks gone    ${s(out.rolloutMs.oldGone)} / floor ${s(floors.gone)}`);
    console.log(`  gate passed       ${s(out.rolloutMs.gatePassed)} / floor ${s(floors.gone)}`);
    console.log(
      `  ${transitions} transitions, ${phases.healthPolls} health polls; ${loadResult.failed}/${loadResult.sent} requests failed`,
    );
    console.log('  written to bench/results/local-release.json');
  } finally {
    if (!process.env.BENCH_KEEP) await down({ ...config });
  }
}

await main();
