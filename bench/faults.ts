/**
 * Releases under load and faults. On a local stack of its own (own service, free loopback
 * ports, a temporary STEPDEPLOY_HOME), brought up with `stepdeploy local up`:
 *
 *   1. capacity at rest: the highest fixed rate at which the home page through the load
 *      balancer holds zero failed requests and p99 < 500 ms for 20 s (bench/lib/capacity.ts);
 *   2. the same home page at rest at the scenario rate (a fraction of that capacity, 0.5 by
 *      default): the p99 yardstick;
 *   3. each scenario at that rate, the load running through the whole execution
 *      (bench/lib/fault-scenarios.ts, shared with test/e2e/local-faults.test.ts): good release,
 *      failing release (refused by its trial task), rollback with no build, a new task killed
 *      mid-rollout, a known-good task killed mid-rollout, MariaDB restarted during the health
 *      gate, a home page answering 500 and a task crashing on start (both refused by the trial).
 *
 * Targets per scenario: the expected outcome; zero failed requests; p99 during the release at
 * most 3× p99 at rest; after the execution the targets in HAProxy are exactly the running tasks
 * of the revision the service record names, all healthy.
 *
 * Usage: npx tsx bench/faults.ts [--scenarios good,failing,...] [--fraction 0.5] [--budget-s 240]
 * Writes bench/results/faults.json (the section) and faults-runs.json (every run in full).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type CapacityResult, measureCapacity } from './lib/capacity.ts';
import {
  cli,
  FAULT_SCENARIOS,
  type FaultAtRest,
  type FaultRun,
  type FaultScenario,
  type FaultStack,
  faultStack,
  killTaskAtRest,
  replacementMs,
  restartDatabaseAtRest,
  rolloutWindow,
  runFaultScenario,
  SCENARIO_SPECS,
} from './lib/fault-scenarios.ts';
import {
  type Figure,
  figure,
  notMeasured,
  type SectionResult,
  type Table,
  type Target,
  type Yardstick,
} from './lib/figures.ts';
import {
  type LatencySummary,
  type LoadResult,
  latencySummary,
  loadDetails,
  startLoad,
} from './lib/load.ts';
import { freePort } from './lib/local-scenarios.ts';
import { isMain, RESULTS_DIR, writeSectionJson } from './lib/section.ts';
import { round } from './lib/stats.ts';

/** Targets of every scenario. */
export const P99_RATIO_MAX = 3;

/** What the faults section measured, as written to faults-runs.json. */
export interface FaultsOutput {
  readonly service: string;
  readonly fraction: number;
  readonly capacity: CapacityResult | null;
  /** Requests per second of every scenario's load: fraction × capacity. */
  readonly ratePerSecond: number | null;
  /** The site at rest at the scenario rate: the p99 yardstick. */
  readonly rest: LoadResult | null;
  /**
   * The db-restart scenario's MariaDB restart at the same rate with no release: the latency the
   * fault itself causes, the fair yardstick of that scenario's p99 (absent when not planned).
   */
  readonly databaseRestartAtRest?: FaultAtRest | null;
  /**
   * The kill-old scenario's task kill at the same rate with no release: what losing one of the
   * service's tasks costs by itself, the fair yardstick of that scenario's p99.
   */
  readonly taskKillAtRest?: FaultAtRest | null;
  readonly runs: readonly FaultRun[];
  readonly errors: readonly { readonly scenario: string; readonly reason: string }[];
  readonly setupError?: string;
}

/** Options of {@link runFaults}. */
export interface FaultsOptions {
  readonly scenarios?: readonly FaultScenario[];
  /** Fraction of the capacity each scenario's load runs at (default 0.5). */
  readonly fraction?: number;
  /** Time budget of the capacity search (default 4 min). */
  readonly capacityBudgetMs?: number;
  /** Seconds of load at rest at the scenario rate (default 30). */
  readonly restSeconds?: number;
  readonly log?: (line: string) => void;
}

/** The scenarios to run in order; a rollback needs an earlier good release, so one is added. Pure. */
export function plannedScenarios(asked: readonly FaultScenario[]): FaultScenario[] {
  const want = new Set(asked);
  if (want.has('rollback')) want.add('good');
  return FAULT_SCENARIOS.filter((s) => want.has(s));
}

const describe = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Brings up a private stack, measures capacity, runs the scenarios, always tears down. */
export async function runFaults(opts: FaultsOptions = {}): Promise<FaultsOutput> {
  const log = opts.log ?? (() => {});
  const fraction = opts.fraction ?? 0.5;
  const scenarios = plannedScenarios(opts.scenarios ?? FAULT_SCENARIOS);
  const service = `benchflt${Date.now().toString(36).slice(-4)}`;
  const stack: FaultStack = faultStack({
    home: `/tmp/sdf-${process.pid}`,
    service,
    sitePort: await freePort(18980),
    registryPort: await freePort(15680),
    databasePort: await freePort(13680),
    taskPortBase: await freePort(19700),
  });
  const runs: FaultRun[] = [];
  const errors: { scenario: string; reason: string }[] = [];
  let capacity: CapacityResult | null = null;
  let rate: number | null = null;
  let rest: LoadResult | null = null;
  let databaseRestartAtRest: FaultAtRest | null = null;
  let taskKillAtRest: FaultAtRest | null = null;
  /** What was measured so far: all of it on success, the part before the error otherwise. */
  const measured = (): FaultsOutput => ({
    service,
    fraction,
    capacity,
    ratePerSecond: rate,
    rest,
    databaseRestartAtRest,
    taskKillAtRest,
    runs,
    errors,
  });
  try {
    log(`local stack ${service}: site ${stack.siteUrl}, state ${stack.home}`);
    const up = await cli(stack, ['up', '--json']);
    if (up.code !== 0)
      throw new Error(
        `stepdeploy local up exited ${up.code}: ${up.stderr.trim().split('\n').slice(-5).join(' / ')}`,
      );
    // `up` leaves WordPress not installed: the first release installs it, so that the capacity
    // is the installed site's home page.
    const install = await cli(stack, ['release', '--revision', 'install', '--json']);
    if (install.code !== 0)
      throw new Error(
        `the first release (it installs WordPress) exited ${install.code}: ${install.stderr.trim().split('\n').slice(-5).join(' / ')}`,
      );
    capacity = await measureCapacity({
      url: stack.siteUrl,
      ...(opts.capacityBudgetMs ? { budgetMs: opts.capacityBudgetMs } : {}),
      log: (l) => log(`  ${l}`),
    });
    log(
      `capacity at rest: ${capacity.capacity} req/s (${capacity.ended}; first failing rate ${capacity.firstFailingRate ?? 'none'})`,
    );
    if (capacity.capacity <= 0)
      throw new Error(
        `the site held no tried rate at rest (lowest ${Math.min(...capacity.trials.map((t) => t.rate))} req/s: ${capacity.trials.at(-1)?.why})`,
      );
    rate = round(fraction * capacity.capacity, 3);
    const restSeconds = opts.restSeconds ?? 30;
    rest = await startLoad({
      url: stack.siteUrl,
      ratePerSecond: rate,
      maxRequests: Math.ceil(rate * restSeconds),
      maxMs: restSeconds * 1000,
      strict: true,
    }).finished();
    log(
      `at rest at ${rate} req/s: ${rest.failed}/${rest.sent} failed, p99 ${Math.round(latencySummary(rest)?.p99 ?? Number.NaN)} ms`,
    );
    if (scenarios.includes('db-restart')) {
      try {
        const atRest = await restartDatabaseAtRest(stack, { ratePerSecond: rate });
        databaseRestartAtRest = atRest;
        log(
          `MariaDB restarted at rest at ${rate} req/s: ${atRest.load.failed}/${atRest.load.sent} failed, p99 ${Math.round(latencySummary(atRest.load)?.p99 ?? Number.NaN)} ms, database back after ${atRest.databaseBackMs ?? 'never'} ms`,
        );
      } catch (error) {
        errors.push({ scenario: 'MariaDB restarted at rest', reason: describe(error) });
      }
    }
    if (scenarios.includes('kill-old')) {
      try {
        const atRest = await killTaskAtRest(stack, { ratePerSecond: rate });
        taskKillAtRest = atRest;
        log(
          `a task killed at rest at ${rate} req/s: ${atRest.load.failed}/${atRest.load.sent} failed, p99 ${Math.round(latencySummary(atRest.load)?.p99 ?? Number.NaN)} ms`,
        );
      } catch (error) {
        errors.push({ scenario: 'a task killed at rest', reason: describe(error) });
      }
      // The scheduler runs inside commands: `up` replaces the killed task before the scenarios.
      const back = await cli(stack, ['up', '--json']);
      if (back.code !== 0)
        throw new Error(
          `\`local up\` after the task killed at rest exited ${back.code}: ${back.stderr.trim().split('\n').slice(-3).join(' / ')}`,
        );
    }
    for (const scenario of scenarios) {
      try {
        runs.push(
          await runFaultScenario(stack, scenario, {
            ratePerSecond: rate,
            log: (l) => log(`  ${l}`),
          }),
        );
      } catch (error) {
        errors.push({ scenario, reason: describe(error) });
        log(`  ${scenario} failed to run: ${describe(error)}`);
      }
    }
    return measured();
  } catch (error) {
    return { ...measured(), setupError: describe(error) };
  } finally {
    const down = await cli(stack, ['down', '--json']).catch((e: unknown) => ({
      code: 1,
      stderr: describe(e),
    }));
    if (down.code !== 0) log(`teardown: ${down.stderr.trim().split('\n').slice(-3).join(' / ')}`);
  }
}

const ms = (v: number | undefined | null) =>
  v === undefined || v === null
    ? '—'
    : v >= 10_000
      ? `${(v / 1000).toFixed(1)} s`
      : `${Math.round(v)} ms`;

/** The p99 of a run over the whole execution (and the second after it) and over its rollout. Pure. */
export function runLatency(run: FaultRun): {
  readonly release: LatencySummary | undefined;
  readonly rollout: LatencySummary | undefined;
} {
  const to = run.endedAt + 1000;
  const window = rolloutWindow(run.release?.serviceEvents);
  return {
    release: latencySummary(run.load, { from: run.startedAt, to }),
    rollout: window ? latencySummary(run.load, { from: window.from, to }) : undefined,
  };
}

/** One stretch of an execution with the load it saw. */
export interface LatencyPhase {
  readonly phase: string;
  readonly from: number;
  readonly to: number;
  readonly sent: number;
  readonly failed: number;
  readonly p99Ms: number | null;
}

/**
 * The load of a run split at what the scheduler did: before the first deployment (build,
 * snapshot), new tasks starting (first deployment created → the last deployment's tasks
 * healthy), the switch (→ last deployment completed: old tasks drained and stopped), and the
 * rest (smoke test, records, the second after the end). Phases with no boundary are left
 * out. Pure.
 */
export function latencyPhases(run: FaultRun): LatencyPhase[] {
  const events = run.release?.serviceEvents ?? [];
  const first = (type: string) => events.find((e) => e.type === type)?.at;
  const last = (type: string) => events.filter((e) => e.type === type).pop()?.at;
  const end = run.endedAt + 1000;
  const marks: [string, number | undefined][] = [
    ['before the first deployment', run.startedAt],
    ['new tasks starting', first('deployment-created')],
    ['switch (drain, stop)', last('tasks-healthy')],
    ['after the rollout', last('deployment-completed')],
  ];
  const known = marks.filter((m): m is [string, number] => m[1] !== undefined);
  return known.map(([phase, from], i) => {
    const to = known[i + 1]?.[1] ?? end;
    const lat = latencySummary(run.load, { from, to });
    return {
      phase,
      from: from - run.startedAt,
      to: to - run.startedAt,
      sent: (run.load.samples ?? []).filter((x) => x.at >= from && x.at < to).length,
      failed: run.load.failures.filter((f) => f.at >= from && f.at < to).length,
      p99Ms: lat ? round(lat.p99, 4) : null,
    };
  });
}

/** The faults section from what was measured. Pure. */
export function sectionFromFaults(out: FaultsOutput): SectionResult {
  const id = 'faults';
  const title = 'Releases under load and faults';
  const cap = out.capacity;
  const rate = out.ratePerSecond;
  const capText = cap
    ? `${cap.capacity} req/s (highest passing rate${cap.firstFailingRate !== null ? `; ${cap.firstFailingRate} req/s failed` : ''}; search ended: ${cap.ended})`
    : 'not measured';
  const rateText =
    rate !== null && cap
      ? `${rate} req/s (${out.fraction} × the capacity at rest, ${cap.capacity} req/s)`
      : '—';
  const method = [
    `A local stack of its own (\`stepdeploy local up\`, own service and ports on 127.0.0.1, a temporary STEPDEPLOY_HOME), driven through the real command line (\`stepdeploy local release|rollback --json\`).`,
    `Capacity at rest: open-loop GET / through HAProxy at a fixed rate for ${cap ? cap.trialMs / 1000 : 20} s per trial (a ${cap ? cap.settleMs / 1000 : 3} s settle between trials), doubling from 4 req/s until a trial fails, then bisecting to within 10 %, the search bounded to 4 min; a trial passes with zero failed requests (only a 200 ending in </html> counts as served; a 5 s timeout, a 5xx or a refused connection fails it) and p99 < ${cap?.limits.p99BelowMs ?? 500} ms.`,
    `Each scenario then runs with the same open-loop load at ${rateText} from before the command starts until a second after it ends; p99 at rest is the same load for 30 s with no release.`,
    `Faults are injected when the system shows the moment, never after a fixed sleep: a new task is killed (\`docker kill\`) as soon as a container of the new revision runs; a known-good task is killed as soon as the first new task runs; MariaDB is restarted (\`docker restart\`) once the execution entered CheckHealth and a new task runs. The same MariaDB restart, and the same kill of one of the service's two tasks, are also made with no release, 10 s into 30 s of the scenario load (after the kill, \`local up\` brings the service back: local mode has no scheduler between commands): each one's p99 is what the fault itself costs, the yardstick that says what the release adds to it.`,
    `End state: the service record's revision, its running tasks and the servers registered in HAProxy (runtime API, \`show servers state\`) with their target health; the target holds when the servers are exactly the running tasks of that revision (names and ports), all healthy, and no task of another revision runs.`,
  ].join(' ');
  if (out.setupError && out.runs.length === 0)
    return {
      id,
      title,
      status: 'not measured',
      reason: out.setupError,
      method,
      figures: cap
        ? [
            figure({
              name: 'capacity at rest (zero errors, p99 < 500 ms for 20 s)',
              value: cap.capacity,
              unit: 'req/s',
            }),
          ]
        : [],
      details: out,
    };

  const zero: Target = { on: 'value', max: 0, text: 'zero failed requests' };
  const p99Target: Target = {
    on: 'ratio',
    max: P99_RATIO_MAX,
    text: `≤ ${P99_RATIO_MAX}× p99 at rest`,
  };
  const outcomeTarget: Target = { on: 'value', max: 0, text: 'the expected outcome' };
  const endTarget: Target = {
    on: 'value',
    max: 0,
    text: "targets == running tasks of the service's revision, all healthy",
  };
  const restLat = out.rest ? latencySummary(out.rest) : undefined;
  const restYard =
    restLat && rate !== null
      ? { name: `p99 at rest at ${rate} req/s (no release)`, value: restLat.p99, unit: 'ms' }
      : undefined;
  const figures: Figure[] = [];
  if (cap) {
    figures.push(
      figure({
        name: 'capacity at rest (zero errors, p99 < 500 ms for 20 s)',
        value: cap.capacity,
        unit: 'req/s',
        note: `trials: ${cap.trials.map((t) => `${t.rate}/s ${t.passed ? 'pass' : 'fail'} (p99 ${t.p99Ms === null ? '—' : Math.round(t.p99Ms)} ms${t.failed ? `, ${t.failed} failed` : ''})`).join(', ')}; search took ${ms(cap.durationMs)}`,
      }),
    );
    if (rate !== null)
      figures.push(
        figure({
          name: 'load of every scenario',
          value: rate,
          unit: 'req/s',
          yardstick: { name: 'capacity at rest, same run', value: cap.capacity, unit: 'req/s' },
          note: `${out.fraction} × capacity`,
        }),
      );
  }
  /** A load with no release: its failed requests, then (when a request completed) its p99. */
  const atRestFigures = (
    name: string,
    load: LoadResult,
    lat: LatencySummary | undefined,
    notes: { readonly failed: string; readonly p99?: string },
    yardstick?: Yardstick,
  ): Figure[] => [
    figure({
      name: `${name}: failed requests`,
      value: load.failed,
      unit: 'requests',
      yardstick: { name: 'requests sent', value: load.sent, unit: 'requests' },
      target: zero,
      note: notes.failed,
    }),
    ...(lat
      ? [
          figure({
            name: `${name}: p99`,
            value: lat.p99,
            unit: 'ms',
            ...(yardstick ? { yardstick } : {}),
            note: `${notes.p99 ? `${notes.p99}; ` : ''}p50 ${ms(lat.p50)}, max ${ms(lat.max)}, ${lat.n} requests`,
          }),
        ]
      : []),
  ];
  if (out.rest && rate !== null)
    figures.push(
      ...atRestFigures(`at rest at ${rate} req/s (${out.fraction} × capacity)`, out.rest, restLat, {
        failed: 'the machine alone, no release',
      }),
    );

  const faultAtRest = out.databaseRestartAtRest;
  const faultAtRestLat = faultAtRest ? latencySummary(faultAtRest.load) : undefined;
  if (faultAtRest && rate !== null)
    figures.push(
      ...atRestFigures(
        `MariaDB restarted at rest at ${rate} req/s (no release)`,
        faultAtRest.load,
        faultAtRestLat,
        {
          failed: 'the db-restart fault alone: the site waits the restart out (wp-content/db.php)',
          p99: `the fault's own cost, no target: MariaDB answered again ${ms(faultAtRest.databaseBackMs)} after \`docker restart\` (which took ${ms(faultAtRest.injection.tookMs)})`,
        },
        restYard,
      ),
    );

  const killAtRest = out.taskKillAtRest;
  const killAtRestLat = killAtRest ? latencySummary(killAtRest.load) : undefined;
  if (killAtRest && rate !== null)
    figures.push(
      ...atRestFigures(
        `a task killed at rest at ${rate} req/s (no release)`,
        killAtRest.load,
        killAtRestLat,
        {
          failed: 'the kill-old fault alone: the other task carries the load',
          p99: `the fault's own cost, no target: \`docker kill\` of ${killAtRest.injection.target} 10 s into the load`,
        },
        restYard,
      ),
    );

  const good = out.runs.find((r) => r.scenario === 'good');
  const goodMs = good ? good.endedAt - good.startedAt : undefined;
  const rows: string[][] = [];
  for (const run of out.runs) {
    const L = run.label;
    const lat = runLatency(run);
    const outcomeOk = run.outcome === run.expected;
    const failure = run.release?.failure;
    figures.push(
      figure({
        name: `${L}: outcome (expected ${run.expected}, got ${run.outcome})`,
        value: outcomeOk ? 0 : 1,
        unit: 'mismatch',
        target: outcomeTarget,
        note: `${failure ? `failed step ${failure.step}: ${failure.error}: ${failure.reason.slice(0, 200)}` : run.cliError ? run.cliError.slice(0, 200) : 'no failure'}`,
      }),
    );
    const reasons = [...new Set(run.load.failures.map((f) => f.reason))].slice(0, 5).join(', ');
    figures.push(
      figure({
        name: `${L}: failed requests`,
        value: run.load.failed,
        unit: 'requests',
        yardstick: {
          name: `requests sent at ${run.ratePerSecond} req/s (${out.fraction} × capacity)`,
          value: run.load.sent,
          unit: 'requests',
        },
        target: zero,
        ...(reasons ? { note: `failures: ${reasons}` } : {}),
      }),
    );
    figures.push(
      lat.release
        ? figure({
            name: `${L}: p99 during the release`,
            value: lat.release.p99,
            unit: 'ms',
            ...(restYard ? { yardstick: restYard } : {}),
            target: p99Target,
            note: `p50 ${ms(lat.release.p50)}, max ${ms(lat.release.max)}; from the first deployment on: p99 ${ms(lat.rollout?.p99)}`,
          })
        : notMeasured(`${L}: p99 during the release`, 'ms', 'no request completed', p99Target),
    );
    const sameFault =
      run.scenario === 'db-restart'
        ? faultAtRestLat && { what: 'restart', yard: 'the MariaDB restart', lat: faultAtRestLat }
        : run.scenario === 'kill-old'
          ? killAtRestLat && { what: 'task kill', yard: 'a task killed', lat: killAtRestLat }
          : undefined;
    if (sameFault && lat.release)
      figures.push(
        figure({
          name: `${L}: p99 during the release against the same ${sameFault.what} with no release`,
          value: lat.release.p99,
          unit: 'ms',
          yardstick: {
            name: `p99 of ${sameFault.yard} at rest at ${rate} req/s (no release)`,
            value: sameFault.lat.p99,
            unit: 'ms',
          },
          target: {
            on: 'ratio',
            max: P99_RATIO_MAX,
            text: `≤ ${P99_RATIO_MAX}× p99 of the same fault with no release`,
          },
          note: `the 3× rule with the fault on both sides: what the release adds to the ${sameFault.what}, not the ${sameFault.what} itself`,
        }),
      );
    figures.push(
      figure({
        name: `${L}: end state (service and load balancer)`,
        value: run.end.problems.length,
        unit: 'problems',
        target: endTarget,
        note:
          run.end.problems.length > 0
            ? run.end.problems.join('; ')
            : `service on ${run.end.taskDefinition?.split('/').pop()}; targets ${run.end.targets.map((t) => `${t.name}:${t.port} ${t.state}`).join(', ')}`,
      }),
    );
    const total = run.endedAt - run.startedAt;
    const d = run.release?.durationsMs ?? {};
    const window = rolloutWindow(run.release?.serviceEvents);
    const replaced = replacementMs(run, run.end.desiredCount ?? 2);
    figures.push(
      figure({
        name: `${L}: duration (command start → end)`,
        value: total,
        unit: 'ms',
        ...(goodMs !== undefined && run.scenario !== 'good'
          ? {
              yardstick: {
                name: 'the good release of this run',
                value: goodMs,
                unit: 'ms',
              },
            }
          : {}),
        note: [
          d.BuildImage !== undefined ? `build ${ms(d.BuildImage)}` : 'no build',
          window ? `first deployment → end ${ms(run.endedAt - window.from)}` : 'no deployment',
          run.injection
            ? `${run.injection.kind} ${run.injection.target} (${ms(run.injection.tookMs)}) when ${run.injection.trigger}`
            : '',
          replaced !== undefined ? `replacement task started ${ms(replaced)} after the kill` : '',
          run.notInjected ? `NOT injected: ${run.notInjected}` : '',
        ]
          .filter(Boolean)
          .join('; '),
      }),
    );
    const ratio = (p: number | undefined) =>
      p === undefined || !restLat ? '—' : `${ms(p)} (${(p / restLat.p99).toFixed(2)}×)`;
    rows.push([
      L,
      `${run.ratePerSecond} req/s (${out.fraction} × ${cap?.capacity ?? '?'})`,
      `${run.expected} / ${run.outcome} ${outcomeOk ? '✅' : '❌'}`,
      `${run.load.failed} / ${run.load.sent} ${run.load.failed === 0 ? '✅' : '❌'}`,
      `${ratio(lat.release?.p99)} ${lat.release && restLat && lat.release.p99 <= P99_RATIO_MAX * restLat.p99 ? '✅' : '❌'}`,
      ratio(lat.rollout?.p99),
      latencyPhases(run)
        .map(
          (p) =>
            `${p.phase} ${(p.from / 1000).toFixed(0)}–${(p.to / 1000).toFixed(0)} s: ${ms(p.p99Ms)}${p.failed ? ` (${p.failed} failed)` : ''}`,
        )
        .join('; '),
      `${ms(total)}${d.BuildImage !== undefined ? ` (build ${ms(d.BuildImage)})` : ''}`,
      run.injection
        ? `${run.injection.kind} ${run.injection.target}${replaced !== undefined ? `; replaced after ${ms(replaced)}` : ''}`
        : (run.notInjected ?? '—'),
      run.end.problems.length === 0
        ? `${run.end.taskDefinition?.split('/').pop()}: ${run.end.targets.length} targets healthy ✅`
        : `❌ ${run.end.problems.join('; ')}`,
    ]);
  }
  for (const e of out.errors)
    figures.push(
      notMeasured(
        `${SCENARIO_SPECS[e.scenario as FaultScenario]?.label ?? e.scenario}`,
        '',
        e.reason,
      ),
    );
  const tables: Table[] = rows.length
    ? [
        {
          title: `Scenarios at ${rateText}; p99 at rest ${restLat ? ms(restLat.p99) : '—'}; capacity ${capText}`,
          headers: [
            'scenario',
            'load',
            'outcome expected / got',
            'failed / sent',
            'p99 release (× rest)',
            'p99 from first deployment (× rest)',
            'p99 by phase (failed)',
            'duration',
            'fault injected',
            'end state',
          ],
          rows,
        },
      ]
    : [];
  const missing = figures.filter((f) => f.value === null);
  return {
    id,
    title,
    status:
      out.setupError || missing.length > 0
        ? out.runs.length > 0
          ? 'partial'
          : 'not measured'
        : 'measured',
    ...(out.setupError || missing.length > 0
      ? {
          reason: [out.setupError, ...missing.map((f) => `${f.name}: ${f.notMeasured}`)]
            .filter(Boolean)
            .join('; '),
        }
      : {}),
    method: `${method} Scenarios: ${out.runs.map((r) => `${r.label} — ${SCENARIO_SPECS[r.scenario].what}`).join('; ')}.`,
    figures,
    tables,
    details: {
      capacity: cap,
      ratePerSecond: rate,
      fraction: out.fraction,
      restP99Ms: restLat?.p99 ?? null,
      runs: out.runs.map((r) => ({
        scenario: r.scenario,
        args: r.args,
        expected: r.expected,
        outcome: r.outcome,
        failure: r.release?.failure ?? null,
        injection: r.injection ?? null,
        notInjected: r.notInjected ?? null,
        load: loadDetails(r.load),
        latency: runLatency(r),
        phases: latencyPhases(r),
        durationMs: r.endedAt - r.startedAt,
        durationsMs: r.release?.durationsMs ?? {},
        end: r.end,
      })),
      errors: out.errors,
    },
  };
}

/** Runs the section (for bench/run.ts): the section and the capacity it measured. */
export async function runFaultsSection(
  opts: FaultsOptions = {},
): Promise<{ section: SectionResult; capacity: number | null; output: FaultsOutput }> {
  const output = await runFaults(opts);
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(
    join(RESULTS_DIR, 'faults-runs.json'),
    `${JSON.stringify(
      {
        ...output,
        rest: output.rest ? { ...output.rest, latenciesMs: undefined, samples: undefined } : null,
        runs: output.runs.map((r) => ({
          ...r,
          // Every request as `<ms after the run started>:<latency ms>:<served 1|0>`, one string.
          load: {
            ...r.load,
            latenciesMs: undefined,
            samples: (r.load.samples ?? [])
              .map((x) => `${x.at - r.startedAt}:${Math.round(x.ms)}:${x.ok ? 1 : 0}`)
              .join(' '),
          },
        })),
      },
      null,
      2,
    )}\n`,
  );
  const section = sectionFromFaults(output);
  await writeSectionJson('faults', section);
  return { section, capacity: output.capacity?.capacity ?? null, output };
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      scenarios: { type: 'string', default: FAULT_SCENARIOS.join(',') },
      fraction: { type: 'string', default: '0.5' },
      'budget-s': { type: 'string', default: '240' },
    },
  });
  const asked = (values.scenarios ?? '').split(',').filter(Boolean);
  const unknown = asked.filter((s) => !(FAULT_SCENARIOS as readonly string[]).includes(s));
  if (unknown.length > 0)
    throw new Error(
      `unknown scenario(s) ${unknown.join(', ')}; choose from ${FAULT_SCENARIOS.join(', ')}`,
    );
  const { section } = await runFaultsSection({
    scenarios: asked as FaultScenario[],
    fraction: Number(values.fraction),
    capacityBudgetMs: Number(values['budget-s']) * 1000,
    log: (line) => console.error(line),
  });
  for (const f of section.figures)
    console.log(
      `${f.name}: ${f.value ?? `not measured (${f.notMeasured})`} ${f.unit}${f.ratio !== null ? ` (${f.ratio}×)` : ''}${f.met === null ? '' : f.met ? ' met' : ' NOT met'}`,
    );
}
