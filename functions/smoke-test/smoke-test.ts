import { SmokeTestError } from '#commons/errors.ts';
import {
  judgeResponse,
  SMOKE_PATHS,
  SMOKE_TIMING,
  type SmokeCheck,
  type SmokeTiming,
} from '#commons/smoke.ts';
import { sleep } from '#commons/wait.ts';
import type { SmokeTestEvent } from './schema.ts';

export type { SmokeTiming };

async function check(siteUrl: string, path: string, timing: SmokeTiming): Promise<SmokeCheck> {
  const url = new URL(path, siteUrl).toString();
  try {
    const response = await fetch(url, {
      redirect: 'manual',
      signal: AbortSignal.timeout(timing.requestTimeoutMs),
    });
    return judgeResponse(path, response.status, await response.text());
  } catch (error) {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { path, status: 0, ok: false, reason: `${path} unreachable (${detail})` };
  }
}

/**
 * Checks `/readyz` and the home page through the load balancer, retrying each a bounded number
 * of times; throws SmokeTestError with the last failing reason.
 */
export async function smokeTest(event: SmokeTestEvent, timing: SmokeTiming = SMOKE_TIMING) {
  const checks: SmokeCheck[] = [];
  for (const path of SMOKE_PATHS) {
    let last: SmokeCheck | undefined;
    for (let attempt = 1; attempt <= event.attempts; attempt += 1) {
      last = await check(event.siteUrl, path, timing);
      if (last.ok) break;
      if (attempt < event.attempts) await sleep(timing.intervalMs);
    }
    if (!last?.ok) {
      throw new SmokeTestError(`${last?.reason ?? path} after ${event.attempts} attempt(s)`);
    }
    checks.push(last);
  }
  return { checks };
}
