import { percentile } from './stats.ts';
import { nowMs } from './timing.ts';

/** A bounded load: fixed rate, at most `maxRequests` requests and `maxMs` milliseconds. */
export interface LoadSettings {
  /** Must be on 127.0.0.1 (or localhost): the bench never sends traffic elsewhere. */
  readonly url: string;
  readonly ratePerSecond: number;
  readonly maxRequests: number;
  readonly maxMs: number;
  /** Per-request timeout (default 10 s). */
  readonly timeoutMs?: number;
  /**
   * Only a 200 whose body ends the HTML document (`</html>`) counts as served, so an empty,
   * truncated or redirected page is a failure too (default: any status below 500 is served).
   */
  readonly strict?: boolean;
  /**
   * Requests in flight at most (default 4 × rate, at least 4); a request due while the cap is reached is
   * not sent and counts as failed, so a stalled service is not buried under piled-up requests.
   */
  readonly maxInFlight?: number;
}

/** One failed request: when (epoch ms) and why. */
export interface LoadFailure {
  readonly at: number;
  readonly reason: string;
}

/** One request: when it was sent (epoch ms), how long it took, whether it was served. */
export interface LoadSample {
  readonly at: number;
  readonly ms: number;
  readonly ok: boolean;
}

/** What a load run saw. */
export interface LoadResult {
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  readonly failures: readonly LoadFailure[];
  readonly startedAt: number;
  readonly endedAt: number;
  /** Latency of each completed request in ms, in completion order. */
  readonly latenciesMs: readonly number[];
  /** Every completed request (served or not), in completion order. */
  readonly samples?: readonly LoadSample[];
}

/** Latency percentiles of a load run (ms), over every completed request. */
export interface LatencySummary {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * p50, p99 and max latency of the requests of a load run sent within [from, to) (epoch ms;
 * the whole run by default), failed ones included: a request that timed out counts with the
 * time it waited. Undefined when no request falls in the window. Pure.
 */
export function latencySummary(
  result: Pick<LoadResult, 'latenciesMs' | 'samples'>,
  window: { readonly from?: number; readonly to?: number } = {},
): LatencySummary | undefined {
  const from = window.from ?? Number.NEGATIVE_INFINITY;
  const to = window.to ?? Number.POSITIVE_INFINITY;
  const ms =
    result.samples !== undefined
      ? result.samples.filter((s) => s.at >= from && s.at < to).map((s) => s.ms)
      : window.from === undefined && window.to === undefined
        ? [...result.latenciesMs]
        : [];
  if (ms.length === 0) return undefined;
  return {
    n: ms.length,
    p50: percentile(ms, 50),
    p99: percentile(ms, 99),
    max: Math.max(...ms),
  };
}

/** How many failed requests a section's details list: enough to see why, not a whole outage. */
const LISTED_FAILURES = 20;

/**
 * A load run as a section's details publish it: its counts and its first failures, without
 * the per-request latencies and samples (the figures already summarise them). Pure.
 */
export function loadDetails(result: LoadResult) {
  return {
    sent: result.sent,
    ok: result.ok,
    failed: result.failed,
    failures: result.failures.slice(0, LISTED_FAILURES),
  };
}

/** Throws unless the URL is http on loopback (127.0.0.1 or localhost). Pure. */
export function assertLoopback(url: string): URL {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' || !['127.0.0.1', 'localhost'].includes(parsed.hostname))
    throw new Error(`load goes to http://127.0.0.1 only, refused ${url}`);
  return parsed;
}

/** Checks the bounds of a load before it starts. Pure. */
export function checkSettings(settings: LoadSettings): void {
  assertLoopback(settings.url);
  const bounded = (name: string, v: number, max: number) => {
    if (!Number.isFinite(v) || v <= 0 || v > max)
      throw new RangeError(`${name} must be within (0, ${max}], got ${v}`);
  };
  bounded('ratePerSecond', settings.ratePerSecond, 200);
  bounded('maxRequests', settings.maxRequests, 100_000);
  bounded('maxMs', settings.maxMs, 30 * 60_000);
}

/** A response counts as served when it is not a 5xx and not a transport error. Pure. */
export function servedOk(status: number): boolean {
  return status >= 200 && status < 500;
}

/**
 * Requests in flight at most when the caller sets no cap: 4 s of the schedule, and at least 4,
 * since below 1 req/s a cap of 4 × rate is 1 and one slow answer would be counted as the next
 * visitor's failure. Pure.
 */
export function defaultMaxInFlight(ratePerSecond: number): number {
  return Math.max(4, Math.ceil(4 * ratePerSecond));
}

/**
 * What a wrong answer said, for the failure's reason: its title or first words, tags
 * stripped, at most 120 characters (` — "…"`), or nothing for an empty body. Pure.
 */
export function answerExcerpt(body: string): string {
  const title = /<title>([^<]*)<\/title>/i.exec(body)?.[1];
  const text = (title ?? body.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim().slice(0, 120);
  return text ? ` — "${text}"` : '';
}

/** A running load; `stop()` stops sending, waits for requests in flight and returns the tally. */
export interface RunningLoad {
  stop(): Promise<LoadResult>;
  /** Waits until a bound (request count or time) ends the load, then tallies like stop(). */
  finished(): Promise<LoadResult>;
}

/**
 * Sends GETs at a fixed rate to a loopback URL (open loop: the schedule does not wait for
 * answers, as real visitors do not) until stopped or a bound is reached.
 */
export function startLoad(settings: LoadSettings): RunningLoad {
  checkSettings(settings);
  const period = 1000 / settings.ratePerSecond;
  const maxInFlight = settings.maxInFlight ?? defaultMaxInFlight(settings.ratePerSecond);
  const startedAt = Date.now();
  const t0 = nowMs();
  const inFlight = new Set<Promise<void>>();
  const failures: LoadFailure[] = [];
  const latencies: number[] = [];
  const samples: LoadSample[] = [];
  let sent = 0;
  let ok = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let bounded!: () => void;
  const boundReached = new Promise<void>((r) => {
    bounded = r;
  });

  const one = async (): Promise<void> => {
    const at = Date.now();
    const started = nowMs();
    const done = (ok: boolean) => {
      const ms = nowMs() - started;
      latencies.push(ms);
      samples.push({ at, ms, ok });
    };
    try {
      const res = await fetch(settings.url, {
        redirect: 'manual',
        signal: AbortSignal.timeout(settings.timeoutMs ?? 10_000),
        headers: { 'user-agent': 'stepdeploy-bench' },
      });
      const body = await res.text();
      const why = settings.strict
        ? res.status !== 200
          ? `HTTP ${res.status}${answerExcerpt(body)}`
          : body.includes('</html>')
            ? undefined
            : `HTTP 200 without </html> (${body.length} bytes)`
        : servedOk(res.status)
          ? undefined
          : `HTTP ${res.status}${answerExcerpt(body)}`;
      done(why === undefined);
      if (why === undefined) ok++;
      else failures.push({ at, reason: why });
    } catch (error) {
      done(false);
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      failures.push({ at, reason: cause ?? (error instanceof Error ? error.name : String(error)) });
    }
  };

  const tick = () => {
    if (stopped) return;
    if (sent >= settings.maxRequests || nowMs() - t0 >= settings.maxMs) {
      stopped = true;
      bounded();
      return;
    }
    sent++;
    if (inFlight.size >= maxInFlight) {
      failures.push({
        at: Date.now(),
        reason: `not sent: ${maxInFlight} requests already waiting`,
      });
    } else {
      const p = one().finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    // Scheduled against the start time, so slow answers do not lower the rate.
    timer = setTimeout(tick, Math.max(0, t0 + sent * period - nowMs()));
  };
  tick();

  const stop = async (): Promise<LoadResult> => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await Promise.all([...inFlight]);
    return {
      sent,
      ok,
      failed: failures.length,
      failures,
      startedAt,
      endedAt: Date.now(),
      latenciesMs: latencies,
      samples,
    };
  };
  return {
    stop,
    async finished() {
      await boundReached;
      return stop();
    },
  };
}
