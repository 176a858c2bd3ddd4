/**
 * The site's capacity at rest: the highest fixed (open-loop) rate at which the home page,
 * through the local load balancer, holds zero failed requests and a p99 latency under a
 * bound for a whole trial (20 s by default). Found by doubling from a start rate until a
 * trial fails, then bisecting between the best passing and the lowest failing rate, each
 * trial followed by a short settle, the whole search bounded in time.
 *
 * The search is pure (`judgeTrial`, `nextRate`, `capacityOf`); `measureCapacity` runs it.
 */

import { sleep } from '#commons/wait.ts';
import { type LoadResult, latencySummary, startLoad } from './load.ts';
import { round } from './stats.ts';

/** What a trial must hold to pass. */
export interface CapacityLimits {
  /** Failed requests allowed (0). */
  readonly maxFailed: number;
  /** p99 latency must stay strictly below this (ms). */
  readonly p99BelowMs: number;
}

/** The default limits: zero errors and p99 < 500 ms. */
export const CAPACITY_LIMITS: CapacityLimits = { maxFailed: 0, p99BelowMs: 500 };

/** One trial of the search. */
export interface CapacityTrial {
  readonly rate: number;
  readonly sent: number;
  readonly failed: number;
  /** null when no request completed. */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly passed: boolean;
  /** Why it failed (errors and their reasons, or the p99), empty when it passed. */
  readonly why: string;
  readonly durationMs: number;
}

/** Judges one trial's load against the limits. Pure. */
export function judgeTrial(
  rate: number,
  load: Pick<LoadResult, 'sent' | 'failed' | 'failures' | 'latenciesMs' | 'samples'> & {
    readonly startedAt: number;
    readonly endedAt: number;
  },
  limits: CapacityLimits = CAPACITY_LIMITS,
): CapacityTrial {
  const lat = latencySummary(load);
  const reasons: string[] = [];
  if (load.failed > limits.maxFailed) {
    const kinds = [...new Set(load.failures.map((f) => f.reason))].slice(0, 3).join(', ');
    reasons.push(`${load.failed}/${load.sent} failed (${kinds})`);
  }
  if (!lat) reasons.push('no request completed');
  else if (lat.p99 >= limits.p99BelowMs)
    reasons.push(`p99 ${Math.round(lat.p99)} ms ≥ ${limits.p99BelowMs} ms`);
  return {
    rate,
    sent: load.sent,
    failed: load.failed,
    p50Ms: lat ? round(lat.p50, 4) : null,
    p99Ms: lat ? round(lat.p99, 4) : null,
    passed: reasons.length === 0,
    why: reasons.join('; '),
    durationMs: load.endedAt - load.startedAt,
  };
}

/** Bounds of the search. */
export interface SearchSettings {
  /** First rate tried (requests/s). */
  readonly startRate: number;
  /** Never tried above this; a pass here ends the search with the capacity "at least" it. */
  readonly maxRate: number;
  /** Below this the site is said to have no capacity worth a number. */
  readonly minRate: number;
  /** The search stops when the bracket is narrower than this fraction of its lower end. */
  readonly precision: number;
  /** Rates are rounded to multiples of this (requests/s). */
  readonly step: number;
}

/** Defaults: start at 4/s, double up to 64/s, bisect to within 10 %, half-request steps. */
export const SEARCH_DEFAULTS: SearchSettings = {
  startRate: 4,
  maxRate: 64,
  minRate: 0.5,
  precision: 0.1,
  step: 0.5,
};

/** The bracket the trials so far define: the best pass below the lowest failure. Pure. */
export function bracket(trials: readonly Pick<CapacityTrial, 'rate' | 'passed'>[]): {
  readonly lo: number | undefined;
  readonly hi: number | undefined;
} {
  const failed = trials.filter((t) => !t.passed).map((t) => t.rate);
  const hi = failed.length > 0 ? Math.min(...failed) : undefined;
  // A pass above a failure (noise) does not raise the capacity: the failure bounds it.
  const passed = trials.filter((t) => t.passed && (hi === undefined || t.rate < hi));
  const lo = passed.length > 0 ? Math.max(...passed.map((t) => t.rate)) : undefined;
  return { lo, hi };
}

/** The next rate to try, or undefined when the search is done. Pure. */
export function nextRate(
  trials: readonly Pick<CapacityTrial, 'rate' | 'passed'>[],
  settings: SearchSettings = SEARCH_DEFAULTS,
): number | undefined {
  if (trials.length === 0) return settings.startRate;
  const { lo, hi } = bracket(trials);
  const snap = (r: number) => Math.round(r / settings.step) * settings.step;
  if (hi === undefined) {
    // Every trial passed: double, up to the cap.
    const top = lo as number;
    if (top >= settings.maxRate) return undefined;
    return Math.min(settings.maxRate, snap(top * 2));
  }
  if (lo === undefined) {
    // Even the lowest rate tried failed: halve, down to the floor.
    const half = snap(hi / 2);
    return half < settings.minRate || half >= hi ? undefined : half;
  }
  if (hi - lo <= Math.max(settings.step, settings.precision * lo)) return undefined;
  const mid = snap((lo + hi) / 2);
  return mid <= lo || mid >= hi ? undefined : mid;
}

/** The capacity the trials show: the best pass below the lowest failure (0 when none). Pure. */
export function capacityOf(trials: readonly Pick<CapacityTrial, 'rate' | 'passed'>[]): number {
  return bracket(trials).lo ?? 0;
}

/** What {@link measureCapacity} found. */
export interface CapacityResult {
  /** Highest passing rate (requests/s); 0 when even the lowest rate failed. */
  readonly capacity: number;
  /** The lowest failing rate, when one was found (the capacity lies in [capacity, this)). */
  readonly firstFailingRate: number | null;
  /** The passing trial at the capacity (its p99 is the site's p99 near capacity). */
  readonly atCapacity: CapacityTrial | null;
  readonly trials: readonly CapacityTrial[];
  /** Why the search ended: bracket narrow enough, cap reached, floor reached or time budget. */
  readonly ended: 'converged' | 'max-rate' | 'min-rate' | 'budget';
  readonly limits: CapacityLimits;
  readonly trialMs: number;
  readonly settleMs: number;
  readonly durationMs: number;
}

/** Options of {@link measureCapacity}. */
export interface CapacityOptions {
  /** The home page through the load balancer (127.0.0.1 only). */
  readonly url: string;
  readonly trialMs?: number;
  /** Quiet time after each trial, so the next starts from rest (default 3 s). */
  readonly settleMs?: number;
  /** The whole search, warm-up included, ends within this (default 4 min). */
  readonly budgetMs?: number;
  /** Seconds of light load before the search, so caches are warm (default 5). */
  readonly warmupSeconds?: number;
  readonly limits?: CapacityLimits;
  readonly search?: Partial<SearchSettings>;
  readonly log?: (line: string) => void;
}

/**
 * Runs the capacity search against the site at rest. Each trial is an open-loop load of
 * `trialMs` at one rate (requests time out after 5 s: ten times the p99 bound).
 */
export async function measureCapacity(opts: CapacityOptions): Promise<CapacityResult> {
  const trialMs = opts.trialMs ?? 20_000;
  const settleMs = opts.settleMs ?? 3000;
  const budgetMs = opts.budgetMs ?? 4 * 60_000;
  const limits = opts.limits ?? CAPACITY_LIMITS;
  const search = { ...SEARCH_DEFAULTS, ...opts.search };
  const log = opts.log ?? (() => {});
  const started = Date.now();
  const warmup = opts.warmupSeconds ?? 5;
  if (warmup > 0)
    await startLoad({
      url: opts.url,
      ratePerSecond: 2,
      maxRequests: 2 * warmup,
      maxMs: warmup * 1000 + 1000,
      strict: true,
    }).finished();
  const trials: CapacityTrial[] = [];
  let ended: CapacityResult['ended'] = 'converged';
  for (;;) {
    const rate = nextRate(trials, search);
    if (rate === undefined) {
      const { lo, hi } = bracket(trials);
      ended =
        hi === undefined && (lo ?? 0) >= search.maxRate
          ? 'max-rate'
          : lo === undefined
            ? 'min-rate'
            : 'converged';
      break;
    }
    // Each trial also waits for its last requests (up to their 5 s timeout) and the settle.
    if (Date.now() - started + trialMs + 5000 + settleMs > budgetMs) {
      ended = 'budget';
      break;
    }
    const load = await startLoad({
      url: opts.url,
      ratePerSecond: rate,
      maxRequests: Math.ceil((rate * trialMs) / 1000),
      maxMs: trialMs,
      timeoutMs: 5000,
      strict: true,
    }).finished();
    const trial = judgeTrial(rate, load, limits);
    trials.push(trial);
    log(
      `capacity trial ${rate}/s: ${trial.passed ? 'pass' : 'fail'} (${trial.failed}/${trial.sent} failed, p99 ${trial.p99Ms === null ? '—' : `${Math.round(trial.p99Ms)} ms`})${trial.why ? ` — ${trial.why}` : ''}`,
    );
    await sleep(settleMs);
  }
  const capacity = capacityOf(trials);
  const { hi } = bracket(trials);
  return {
    capacity,
    firstFailingRate: hi ?? null,
    atCapacity: trials.find((t) => t.passed && t.rate === capacity) ?? null,
    trials,
    ended,
    limits,
    trialMs,
    settleMs,
    durationMs: Date.now() - started,
  };
}
