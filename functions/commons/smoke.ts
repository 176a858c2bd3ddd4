/** One HTTP check of the smoke test. */
export interface SmokeCheck {
  readonly path: string;
  readonly status: number;
  readonly ok: boolean;
  readonly reason: string;
}

/** The checks a release must pass through the load balancer. */
export const SMOKE_PATHS = ['/readyz', '/'] as const;

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
