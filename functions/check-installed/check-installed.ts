import { sleep } from '#commons/wait.ts';
import type { CheckInstalledEvent, CheckInstalledOutput } from './schema.ts';

/**
 * Judges one `/readyz` answer: 200 is an installed site; 503 with the image's `not-installed`
 * word is a reachable database WordPress was never installed on (a fresh database: the
 * release runs InstallWordPress); anything else (another reason, a load balancer error, no
 * answer) is UNKNOWN, left to SmokeTest to report. Pure.
 */
export function judgeInstalled(status: number, body: string): CheckInstalledOutput {
  const word = body.trim().split(/\s/, 1)[0] ?? '';
  if (status === 200) return { state: 'INSTALLED', status, reason: '/readyz answered 200' };
  if (status === 503 && word === 'not-installed')
    return {
      state: 'NOT_INSTALLED',
      status,
      reason: '/readyz answered 503 not-installed: WordPress is not installed on this database',
    };
  const excerpt = body.trim().slice(0, 80);
  return {
    state: 'UNKNOWN',
    status,
    reason:
      status === 0
        ? `/readyz unreachable (${excerpt})`
        : `/readyz answered ${status}${excerpt ? `: ${excerpt}` : ''}`,
  };
}

/** Pacing of the probe; tests and local mode shorten it. */
export interface ProbeTiming {
  readonly attempts: number;
  readonly intervalMs: number;
  readonly requestTimeoutMs: number;
}

/**
 * Asks `/readyz` through the load balancer whether WordPress is installed, a few times until
 * the answer is INSTALLED or NOT_INSTALLED (a target may blip just after the health gate).
 */
export async function checkInstalled(
  event: CheckInstalledEvent,
  timing: ProbeTiming = { attempts: 3, intervalMs: 2000, requestTimeoutMs: 5000 },
): Promise<CheckInstalledOutput> {
  let verdict: CheckInstalledOutput = judgeInstalled(0, 'not probed');
  for (let attempt = 1; attempt <= timing.attempts; attempt += 1) {
    try {
      const response = await fetch(new URL('/readyz', event.siteUrl), {
        redirect: 'manual',
        signal: AbortSignal.timeout(timing.requestTimeoutMs),
      });
      verdict = judgeInstalled(response.status, await response.text());
    } catch (error) {
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      verdict = judgeInstalled(0, detail);
    }
    if (verdict.state !== 'UNKNOWN') return verdict;
    if (attempt < timing.attempts) await sleep(timing.intervalMs);
  }
  return verdict;
}
