/**
 * VerifyApplication: does the site boot on the restored data? One probe per invocation; the ASL
 * loops on PENDING with a bounded number of polls. The judgement and the probe are shared with
 * local mode; only where the task's state comes from differs (DescribeTasks here, Docker there).
 */
import { request } from 'node:http';
import {
  DescribeTasksCommand,
  type DescribeTasksCommandOutput,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import { classifyAws } from '#commons/errors.ts';
import { ApplicationVerificationError } from '#commons/verify-errors.ts';
import type { VerifyApplicationEvent, VerifyApplicationOutput } from './schema.ts';

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

/** The one-off task as DescribeTasks described it, and its address once it has one. */
export interface TaskSighting {
  readonly task: ApplicationProbe['task'];
  /** The private IPv4 address of the task's network interface (awsvpc), when attached. */
  readonly address?: string;
}

/**
 * What one DescribeTasks answer says about the task (pure). A task ECS answers with a failure
 * for (`MISSING`: stopped tasks stay describable for about an hour only) has stopped, with that
 * reason; a task neither described nor failed yet is still provisioning.
 */
export function sightTask(
  described: Pick<DescribeTasksCommandOutput, 'tasks' | 'failures'>,
): TaskSighting {
  const task = described.tasks?.[0];
  const failure = described.failures?.[0];
  const lastStatus = task?.lastStatus ?? (failure ? 'STOPPED' : 'PROVISIONING');
  const address = task?.attachments
    ?.flatMap((a) => a.details ?? [])
    .find((d) => d.name === 'privateIPv4Address')?.value;
  return {
    task: {
      lastStatus,
      stoppedReason: task?.stoppedReason ?? failure?.reason,
      containers: (task?.containers ?? []).map((c) => ({
        name: c.name ?? '?',
        exitCode: c.exitCode,
        reason: c.reason,
      })),
    },
    address,
  };
}

/** DescribeTasks of the one-off task (thin I/O); throttles become TransientAwsError, which the ASL retries. */
export function describeTask(
  ecs: ECSClient,
  cluster: string,
  taskArn: string,
): Promise<DescribeTasksCommandOutput> {
  return classifyAws('DescribeTasks', () =>
    ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] })),
  );
}

/** One GET of a path of the task's site. */
export type SiteGet = (path: string) => Promise<HttpAnswer>;

/**
 * One probe of a task: `/readyz` once it runs and can be reached (`get` given), then the home
 * page only after `/readyz` answered 200, since a page from a site not ready proves nothing.
 */
export async function probeApplication(
  task: ApplicationProbe['task'],
  get: SiteGet | undefined,
): Promise<ApplicationProbe> {
  if (task.lastStatus !== 'RUNNING' || !get) return { task };
  const readyz = await get('/readyz');
  if (!('status' in readyz) || readyz.status !== 200) return { task, readyz };
  return { task, readyz, home: await get('/') };
}

/** Where the Lambda reaches the one-off task. */
export interface VerifyApplicationSettings {
  readonly cluster: string;
  /** The port the application container listens on inside the task. */
  readonly appPort: number;
  /** The Host header of the scratch site URL, so WordPress answers instead of redirecting. */
  readonly siteHost: string;
}

/** The whole step: describe the task, probe it if it runs, and judge. */
export async function verifyApplication(
  event: VerifyApplicationEvent,
  settings: VerifyApplicationSettings,
  ecs: ECSClient,
): Promise<VerifyApplicationOutput> {
  const { task, address } = sightTask(await describeTask(ecs, settings.cluster, event.taskArn));
  const get: SiteGet | undefined = address
    ? (path) => httpGet(address, settings.appPort, path, settings.siteHost)
    : undefined;
  return judgeApplication(await probeApplication(task, get));
}
