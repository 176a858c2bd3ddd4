/** One HTTP check of the smoke test. */
export interface SmokeCheck {
  readonly path: string;
  readonly status: number;
  readonly ok: boolean;
  readonly reason: string;
}

/** The checks a release must pass through the load balancer. */
export const SMOKE_PATHS = ['/readyz', '/'] as const;

/** Most attempts per path a release may ask for (release option `smokeAttempts`). */
export const SMOKE_MAX_ATTEMPTS = 10;

/** Pacing of the smoke test: pause between attempts and the limit on each request. */
export interface SmokeTiming {
  readonly intervalMs: number;
  readonly requestTimeoutMs: number;
}

/** The pacing the SmokeTest Lambda runs with. */
export const SMOKE_TIMING: SmokeTiming = { intervalMs: 3000, requestTimeoutMs: 5000 };

/**
 * The longest a smoke test of `attempts` per path can take: every request times out and every
 * pause is waited. The SmokeTest Lambda's timeout is derived from this for SMOKE_MAX_ATTEMPTS,
 * so a failing test ends as SmokeTestError with its reason, never as a Lambda timeout.
 */
export function smokeTestBudgetMs(attempts: number, timing: SmokeTiming = SMOKE_TIMING): number {
  return (
    SMOKE_PATHS.length * (attempts * timing.requestTimeoutMs + (attempts - 1) * timing.intervalMs)
  );
}

/**
 * Judges one response: `/readyz` must answer 200 (its body names the problem otherwise); the
 * home page must answer 200 with a non-trivial HTML document (a WordPress with no theme
 * answers 200 with an empty body).
 */
export function judgeResponse(path: string, status: number, body: string): SmokeCheck {
  const excerpt = body.trim().slice(0, 80);
  if (status !== 200) {
    return {
      path,
      status,
      ok: false,
      reason: `${path} answered ${status}${excerpt ? `: ${excerpt}` : ''}`,
    };
  }
  if (path === '/' && !/<\/html>/i.test(body)) {
    return {
      path,
      status,
      ok: false,
      reason: `${path} answered 200 without an HTML document (${body.length} bytes)`,
    };
  }
  return { path, status, ok: true, reason: `${path} answered 200` };
}
