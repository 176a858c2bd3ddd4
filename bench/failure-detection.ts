/**
 * Failure detection, time to recover and dropped requests, from real local releases (Packer
 * build, Docker tasks, HAProxy health checks, MariaDB) run by bench/lib/local-scenarios.ts:
 *
 *   failure detection  first failing signal of a new task (or of the trial task) → the
 *                      release stopping the revision: its trial task refused
 *                      (StopRefusedTrial entered) or the rollback starting (FindLastKnownGood
 *                      entered), against two HAProxy check intervals.
 *                      The first failing signal is what the system itself recorded first:
 *                      the first health check of a new task's target that the app answered
 *                      wrongly (HAProxy's check log, its timestamp; refused connections of an
 *                      app still starting are not a signal), or a new task's container exiting
 *                      (Docker's FinishedAt). With fall 2, the load balancer itself needs one
 *                      more interval to call the target unhealthy; the pipeline has the other.
 *   time to recover    rollback starting → the rollback deployment completed (last known-good
 *                      revision alone serving); 0 for a revision its trial task refused (the
 *                      known-good tasks never stopped serving)
 *                      revision alone serving), against a good release's rollout
 *   dropped requests   failed / sent at a fixed rate through the load balancer, target zero
 *
 * Usage: npx tsx bench/failure-detection.ts [--scenarios good,unhealthy,crash] [--rate 2]
 * Writes bench/results/failure-detection.json, recovery.json, dropped-requests.json.
 */
import { parseArgs } from 'node:util';
import { firstEntered } from './lib/events.ts';
import {
  type Figure,
  figure,
  notMeasured,
  type SectionResult,
  type Target,
} from './lib/figures.ts';
import { loadDetails } from './lib/load.ts';
import type { LocalScenarios, ScenarioName, ScenarioRun } from './lib/local-scenarios.ts';
import { isMain, writeSectionJson } from './lib/section.ts';

/** The state whose entry marks the rollback starting. */
export const ROLLBACK_START_STATE = 'FindLastKnownGood';
/** The state whose entry marks a revision refused by its trial task (the service untouched). */
export const TRIAL_REFUSED_STATE = 'StopRefusedTrial';

/** How the release stopped a bad revision, and when (epoch ms), or undefined. Pure. */
export function reaction(
  run: ScenarioRun,
): { readonly at: number; readonly kind: 'refused' | 'rollback' } | undefined {
  const events = run.result.events as never;
  const refused = firstEntered(events, TRIAL_REFUSED_STATE);
  const rollback = firstEntered(events, ROLLBACK_START_STATE);
  if (refused !== undefined && (rollback === undefined || refused <= rollback))
    return { at: refused, kind: 'refused' };
  return rollback === undefined ? undefined : { at: rollback, kind: 'rollback' };
}

const LABELS: Record<ScenarioName, string> = {
  good: 'good release',
  unhealthy: 'release failing its health check',
  crash: 'release crashing on start',
};

/**
 * Milliseconds from the first failing signal to the release stopping the bad revision (its
 * trial task refused, or the rollback starting), or why not. Pure.
 */
export function detectionMs(run: ScenarioRun): number | string {
  const stopped = reaction(run);
  if (stopped === undefined)
    return `the release neither refused the revision (${TRIAL_REFUSED_STATE}) nor entered ${ROLLBACK_START_STATE} (outcome ${run.result.outcome})`;
  if (!run.firstFailingSignal) return 'no failing signal of a new task was observed';
  return stopped.at - run.firstFailingSignal.at;
}

/**
 * Milliseconds from the rollback starting to the rollback's deployment completing (the
 * deployment created after it started), or why not. Pure.
 */
export function recoveryMs(run: ScenarioRun): number | string {
  const stopped = reaction(run);
  // Refused by its trial task: the known-good tasks never stopped serving alone.
  if (stopped?.kind === 'refused') return 0;
  const rollback = stopped?.at;
  if (rollback === undefined) return `the release never entered ${ROLLBACK_START_STATE}`;
  const created = run.serviceEvents.find(
    (e) => e.type === 'deployment-created' && e.at >= rollback,
  );
  if (!created) return 'no rollback deployment was created';
  const completed = run.serviceEvents.find(
    (e) => e.type === 'deployment-completed' && e.deploymentId === created.deploymentId,
  );
  if (!completed) return 'the rollback deployment never completed';
  return completed.at - rollback;
}

/** Milliseconds of a release's own rollout: its deployment created → completed. Pure. */
export function rolloutMs(run: ScenarioRun): number | undefined {
  const created = run.serviceEvents.find((e) => e.type === 'deployment-created');
  const done =
    created &&
    run.serviceEvents.find(
      (e) => e.type === 'deployment-completed' && e.deploymentId === created.deploymentId,
    );
  return created && done ? done.at - created.at : undefined;
}

/** The three sections from the local runs. Pure. */
export function sectionsFromScenarios(
  local: LocalScenarios,
  ratePerSecond: number,
  /** How the report states the rate (e.g. as a fraction of the capacity measured in the run). */
  rateText = `${ratePerSecond} requests/s`,
): SectionResult[] {
  const byName = new Map(local.runs.map((r) => [r.scenario, r]));
  const errorOf = (s: ScenarioName) =>
    local.errors.find((e) => e.scenario === s)?.reason ?? 'not run';
  const hc = local.healthCheck;
  const twoIntervals = {
    name: `two health-check intervals (HAProxy inter ${hc.intervalMs} ms, rise ${hc.rise}, fall ${hc.fall})`,
    value: 2 * hc.intervalMs,
    unit: 'ms',
  };
  const detectTarget: Target = {
    on: 'ratio',
    max: 1,
    text: `≤ 2 health-check intervals (${2 * hc.intervalMs} ms)`,
  };

  const detection: Figure[] = (['unhealthy', 'crash'] as const).map((s) => {
    const run = byName.get(s);
    const name = `${LABELS[s]}: first failing signal → revision refused or rollback starting`;
    if (!run) return notMeasured(name, 'ms', errorOf(s), detectTarget);
    const ms = detectionMs(run);
    if (typeof ms === 'string') return notMeasured(name, 'ms', ms, detectTarget);
    return figure({
      name,
      value: ms,
      unit: 'ms',
      yardstick: twoIntervals,
      target: detectTarget,
      note: `signal: ${run.firstFailingSignal?.kind} (${run.firstFailingSignal?.detail}); ${reaction(run)?.kind === 'refused' ? 'refused by its trial task' : 'rolled back'}; outcome ${run.result.outcome}`,
    });
  });

  const good = byName.get('good');
  const goodRollout = good ? rolloutMs(good) : undefined;
  const recovery: Figure[] = (['unhealthy', 'crash'] as const).map((s) => {
    const run = byName.get(s);
    const name = `${LABELS[s]}: rollback starting → last known-good serving alone`;
    if (!run) return notMeasured(name, 'ms', errorOf(s));
    const ms = recoveryMs(run);
    if (typeof ms === 'string') return notMeasured(name, 'ms', ms);
    return figure({
      name,
      value: ms,
      unit: 'ms',
      ...(goodRollout !== undefined
        ? {
            yardstick: {
              name: 'rollout of the good release (deployment created → completed)',
              value: goodRollout,
              unit: 'ms',
            },
          }
        : {}),
      note:
        reaction(run)?.kind === 'refused'
          ? `refused by its trial task before it took traffic: the known-good revision never stopped serving alone; outcome ${run.result.outcome}`
          : `outcome ${run.result.outcome}`,
    });
  });

  const zero: Target = { on: 'value', max: 0, text: 'zero failed requests' };
  const baseline = local.baseline;
  const dropped: Figure[] = (['good', 'unhealthy', 'crash'] as const).map((s) => {
    const run = byName.get(s);
    const name = `${LABELS[s]}${s === 'good' ? '' : ' and its rollback'}: failed requests`;
    if (!run) return notMeasured(name, 'requests', errorOf(s), zero);
    if (run.result.outcome === 'REJECTED' || run.result.outcome === 'REFUSED')
      return notMeasured(
        name,
        'requests',
        `the release was ${run.result.outcome} before deploying: ${run.result.cause ?? ''}`,
        zero,
      );
    const reasons = [...new Set(run.load.failures.map((f) => f.reason))].slice(0, 5).join(', ');
    return figure({
      name,
      value: run.load.failed,
      unit: 'requests',
      yardstick: {
        name: `requests sent at ${ratePerSecond}/s through the load balancer`,
        value: run.load.sent,
        unit: 'requests',
      },
      target: zero,
      note: `${((run.endedAt - run.startedAt) / 1000).toFixed(0)} s under load, outcome ${run.result.outcome}${reasons ? `; failures: ${reasons}` : ''}`,
    });
  });
  if (baseline)
    dropped.unshift(
      figure({
        name: 'service at rest, no release (machine baseline): failed requests',
        value: baseline.failed,
        unit: 'requests',
        yardstick: {
          name: `requests sent at ${ratePerSecond}/s through the load balancer`,
          value: baseline.sent,
          unit: 'requests',
        },
        target: zero,
        note: `failures here come from the machine, not from a release${baseline.failed > 0 ? `: ${[...new Set(baseline.failures.map((f) => f.reason))].join(', ')}` : ''}`,
      }),
    );

  const status = (figs: Figure[]): SectionResult['status'] =>
    figs.every((f) => f.value !== null)
      ? 'measured'
      : figs.some((f) => f.value !== null)
        ? 'partial'
        : 'not measured';
  const reasonOf = (figs: Figure[]) => {
    const r = figs.filter((f) => f.notMeasured).map((f) => `${f.name}: ${f.notMeasured}`);
    return r.length > 0 ? { reason: r.join('; ') } : {};
  };
  const details = local.runs.map((r) => ({
    scenario: r.scenario,
    outcome: r.result.outcome,
    error: r.result.error ?? null,
    durationsMs: r.result.durationsMs,
    firstFailingSignal: r.firstFailingSignal ?? null,
    serviceEvents: r.serviceEvents.map((e) => ({ ...e, t: e.at - r.startedAt })),
    load: loadDetails(r.load),
  }));
  const where =
    'Real local releases of the synthesized release state machine (aws-local-stepfunctions, local adapters: Packer build, Docker tasks, HAProxy, MariaDB), each under a fixed-rate load through HAProxy on 127.0.0.1.';
  return [
    {
      id: 'failure-detection',
      title: 'Failure detection',
      status: status(detection),
      ...reasonOf(detection),
      method: `${where} First failing signal: the earliest of (a) the first health check by HAProxy of a new task's target that the app answered wrongly (a Layer 6/7 failure such as a 500 from ${hc.path} or a timeout), timestamped by HAProxy in its check log (option log-health-checks, read from its ring) — connections refused while the app starts are not a signal; (b) a new task's container, or the trial task's, exiting (Docker's FinishedAt), what ECS reports as a stopped task; (c) the first poll of the trial task (CheckTrial, from the moment it started) whose answer counted as wrong. The release stopping the revision: the execution entering ${TRIAL_REFUSED_STATE} (refused by its trial task, before it took traffic) or ${ROLLBACK_START_STATE} (the rollback starting). Yardstick: two HAProxy check intervals as configured for the run; with fall ${hc.fall} the load balancer spends ${hc.fall - 1} of them confirming the failure, so the pipeline (poll, verdict, state transitions) has the rest. For comparison, the ECS deployment circuit breaker needs at least three failed tasks, and ecs-deploy style tools wait for their timeout.`,
      figures: detection,
      details,
    },
    {
      id: 'recovery',
      title: 'Time to recover',
      status: status(recovery),
      ...reasonOf(recovery),
      method: `${where} From the rollback starting (${ROLLBACK_START_STATE} entered) to the rollback deployment (the last known-good revision) completing: its tasks healthy and every other task drained; 0 when the trial task refused the revision (${TRIAL_REFUSED_STATE}), since the known-good tasks never stopped serving alone. Yardstick: the good release's own rollout in the same run. The issue sets no target.`,
      figures: recovery,
    },
    {
      id: 'dropped-requests',
      title: 'Dropped requests',
      status: status(dropped),
      ...reasonOf(dropped),
      method: `${where} Open-loop GET / at ${rateText} from release start until a second after it ends; a request fails on a transport error, a timeout (10 s) or a 5xx. The same load against the service at rest, before any release, shows what the machine alone drops.`,
      figures: dropped,
    },
  ];
}

/** Runs the local scenarios and returns the three sections. */
export async function runFailureDetection(
  opts: {
    scenarios?: ScenarioName[];
    ratePerSecond?: number;
    rateText?: string;
    log?: (line: string) => void;
  } = {},
): Promise<{ sections: SectionResult[]; local: LocalScenarios }> {
  const { runLocalScenarios } = await import('./lib/local-scenarios.ts');
  const rate = opts.ratePerSecond ?? 2;
  const local = await runLocalScenarios({ ...opts, ratePerSecond: rate });
  return { sections: sectionsFromScenarios(local, rate, opts.rateText), local };
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      scenarios: { type: 'string', default: 'good,unhealthy,crash' },
      rate: { type: 'string', default: '2' },
    },
  });
  const { sections } = await runFailureDetection({
    scenarios: (values.scenarios ?? '').split(',').filter(Boolean) as ScenarioName[],
    ratePerSecond: Number(values.rate),
    log: (line) => console.error(line),
  });
  for (const s of sections) {
    await writeSectionJson(s.id, s);
    for (const f of s.figures)
      console.log(
        `${s.id} | ${f.name}: ${f.value ?? `not measured (${f.notMeasured})`} ${f.unit} ratio ${f.ratio}`,
      );
  }
}
