/**
 * VerifyApplication: does the site boot on the restored data? One probe per invocation; the ASL
 * loops on PENDING with a bounded number of polls. The judgement is pure and shared with local mode.
 */
import { request } from 'node:http';
import { ApplicationVerificationError } from '#commons/verify-errors.ts';
import type { VerifyApplicationOutput } from './schema.ts';

/** What one probe saw. */
export interface ApplicationProbe {
  readonly task: {
    readonly lastStatus: string;
    readonly stoppedReason?: string;
    readonly containers: readonly { name: string; exitCode?: number; reason?: string }[];
  };
  /** Absent when the task had no address yet; `error` when the connection failed. */
  readonly readyz?: HttpAnswer;
  readonly home?: HttpAnswer;
}

/** An HTTP answer, or the connection error instead. */
export type HttpAnswer =
  | { readonly status: number; readonly body: string }
  | { readonly error: string };

// /readyz reasons that waiting will not fix (the contract in docs/contracts.md).
const FATAL_READYZ = new Set(['db-auth', 'not-installed', 'misconfigured']);

/**
 * PASSED, PENDING, or throws ApplicationVerificationError naming why the site did not boot:
 * the task stopped (with its reason), /readyz gave a fatal reason, or the home page failed.
 */
export function judgeApplication(probe: ApplicationProbe): VerifyApplicationOutput {
  const { task } = probe;
  if (task.lastStatus === 'STOPPED' || task.lastStatus === 'DEPROVISIONING') {
    const containers = task.containers
      .map((c) => `${c.name} exit ${c.exitCode ?? '?'}${c.reason ? ` (${c.reason})` : ''}`)
      .join(', ');
    throw new ApplicationVerificationError(
      `task stopped: ${task.stoppedReason ?? 'no reason given'}${containers ? `; ${containers}` : ''}`,
    );
  }
  if (task.lastStatus !== 'RUNNING' || !probe.readyz) {
    return { state: 'PENDING', detail: `task ${task.lastStatus.toLowerCase()}` };
  }
  const readyz = probe.readyz;
  if ('error' in readyz) return { state: 'PENDING', detail: `readyz unreachable: ${readyz.error}` };
  if (readyz.status !== 200) {
    const reason = readyz.body.trim().split(/\s+/)[0] ?? '';
    if (FATAL_READYZ.has(reason)) {
      throw new ApplicationVerificationError(`readyz ${readyz.status}: ${reason}`);
    }
    return { state: 'PENDING', detail: `readyz ${readyz.status}: ${reason || 'no reason'}` };
  }
  const home = probe.home;
  if (!home) return { state: 'PENDING', detail: 'home page not probed yet' };
  if ('error' in home) {
    throw new ApplicationVerificationError(`home page unreachable: ${home.error}`);
  }
  if (home.status !== 200) {
    throw new ApplicationVerificationError(`home page returned ${home.status}`);
  }
  if (!/<html/i.test(home.body)) {
    throw new ApplicationVerificationError('home page is not HTML');
  }
  if (/wp-admin\/install\.php/.test(home.body)) {
    throw new ApplicationVerificationError('home page is the WordPress installer: data missing');
  }
  return { state: 'PASSED', detail: 'readyz 200 and home page rendered' };
}

/** GET http://address:port/path with the site's Host header, so WordPress does not redirect. */
export function httpGet(
  address: string,
  port: number,
  path: string,
  hostHeader: string,
  timeoutMs = 5_000,
): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: address,
        port,
        path,
        method: 'GET',
        headers: { Host: hostHeader },
        timeout: timeoutMs,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < 256 * 1024) body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ error: err.message }));
    req.end();
  });
}
