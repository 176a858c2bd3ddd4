/**
 * CheckTrial: before a new revision takes any traffic, one task of it runs beside the service
 * (never in the target group) and is asked directly what a visitor would ask: the target
 * group's health check path, /readyz and the home page. A broken revision is refused here, so
 * no visitor sees it; only what needs the load balancer to show is left to the health gate and
 * the smoke test. The judgement is pure and shared with local mode.
 */
import type { ECSClient } from '@aws-sdk/client-ecs';
import { judgeResponse } from '#commons/smoke.ts';
import {
  describeTask,
  type HttpAnswer,
  httpGet,
  sightTask,
} from '#functions/verify-application/verify-application.ts';
import type { CheckTrialEvent } from './schema.ts';

/** The trial task as DescribeTasks shows it. */
export interface TrialTaskView {
  readonly taskArn: string;
  readonly lastStatus: string;
  readonly createdAt?: Date;
  readonly stoppedReason?: string;
  readonly containers: readonly { name: string; exitCode?: number; reason?: string }[];
  /** Where its container port answers (the task's private IP; 127.0.0.1 locally). */
  readonly address?: string;
}

/** What one poll saw: the task, and the answers it gave (absent when it was not asked). */
export interface TrialProbe {
  readonly task?: TrialTaskView;
  readonly failures: readonly { arn?: string; reason?: string }[];
  readonly health?: HttpAnswer;
  readonly readyz?: HttpAnswer;
  readonly home?: HttpAnswer;
  readonly now: Date;
}

/** PASSED: deploy it; IN_PROGRESS: poll again; FAILED: refuse it (the service is untouched). */
export interface TrialVerdict {
  readonly status: 'PASSED' | 'IN_PROGRESS' | 'FAILED';
  readonly reason: string;
  readonly taskArn?: string;
  readonly progress: { readonly polls: number; readonly failingStreak: number };
}

export interface TrialPolicy {
  readonly timeoutSeconds: number;
  /** Wrong answers in a row that refuse the revision (the target group's unhealthy threshold). */
  readonly failingChecks: number;
}

// /readyz reasons that are the database's state, not the new code's: wait for them.
const WAIT_READYZ = new Set(['db-unreachable']);

const firstWord = (body: string) => body.trim().split(/\s+/)[0] ?? '';

/** What the answers say: served, a wrong answer (counts), or not answering yet (waits). Pure. */
export function judgeAnswers(
  healthPath: string,
  probe: Pick<TrialProbe, 'health' | 'readyz' | 'home'>,
): { kind: 'served' | 'wrong' | 'waiting'; reason: string } {
  const { health, readyz, home } = probe;
  if (!health) return { kind: 'waiting', reason: 'not asked yet' };
  if ('error' in health)
    return { kind: 'waiting', reason: `${healthPath} not answering yet (${health.error})` };
  const healthCheck = judgeResponse(healthPath, health.status, health.body);
  if (!healthCheck.ok) return { kind: 'wrong', reason: healthCheck.reason };
  if (!readyz) return { kind: 'waiting', reason: '/readyz not asked yet' };
  if ('error' in readyz)
    return { kind: 'waiting', reason: `/readyz not answering yet (${readyz.error})` };
  if (readyz.status !== 200) {
    const word = firstWord(readyz.body);
    // A fresh database: InstallWordPress runs after the rollout, and the smoke test checks the
    // home page then; what the trial can check (the health path) passed.
    if (word === 'not-installed')
      return {
        kind: 'served',
        reason: `${healthPath} answered 200; WordPress is not installed yet, so the home page is left to the smoke test`,
      };
    const said = `/readyz answered ${readyz.status}${word ? `: ${word}` : ''}`;
    return WAIT_READYZ.has(word)
      ? { kind: 'waiting', reason: said }
      : { kind: 'wrong', reason: said };
  }
  if (!home) return { kind: 'waiting', reason: '/ not asked yet' };
  if ('error' in home) return { kind: 'waiting', reason: `/ not answering yet (${home.error})` };
  const homeCheck = judgeResponse('/', home.status, home.body);
  if (!homeCheck.ok) return { kind: 'wrong', reason: homeCheck.reason };
  return { kind: 'served', reason: `${healthPath}, /readyz and / answered 200` };
}

/**
 * One poll's verdict. A task that stopped, or that RunTask never placed, fails at once;
 * `failingChecks` wrong answers in a row fail it (a 500 is the code's answer, not load: the
 * trial task takes no traffic); a task not answering yet, or waiting for the database, is
 * given until `timeoutSeconds` after it was created. Pure.
 */
export function judgeTrial(
  healthPath: string,
  probe: TrialProbe,
  policy: TrialPolicy,
  progress: TrialVerdict['progress'],
): TrialVerdict {
  const polls = progress.polls + 1;
  const { task } = probe;
  if (!task) {
    const why = probe.failures.map((f) => f.reason ?? 'no reason given').join('; ');
    return {
      status: 'FAILED',
      reason: `RunTask started no trial task: ${why || 'ECS placed none'}`,
      progress: { polls, failingStreak: progress.failingStreak },
    };
  }
  const base = { taskArn: task.taskArn };
  if (['STOPPED', 'DEPROVISIONING', 'STOPPING'].includes(task.lastStatus)) {
    const containers = task.containers
      .map((c) => `${c.name} exit ${c.exitCode ?? '?'}${c.reason ? ` (${c.reason})` : ''}`)
      .join(', ');
    return {
      ...base,
      status: 'FAILED',
      reason: `the trial task stopped before it served: ${task.stoppedReason ?? 'no reason given'}${containers ? `; ${containers}` : ''}`,
      progress: { polls, failingStreak: progress.failingStreak },
    };
  }
  const answers =
    task.lastStatus === 'RUNNING' && task.address
      ? judgeAnswers(healthPath, probe)
      : { kind: 'waiting' as const, reason: `trial task ${task.lastStatus.toLowerCase()}` };
  if (answers.kind === 'served')
    return {
      ...base,
      status: 'PASSED',
      reason: answers.reason,
      progress: { polls, failingStreak: 0 },
    };
  const failingStreak = answers.kind === 'wrong' ? progress.failingStreak + 1 : 0;
  if (failingStreak >= policy.failingChecks)
    return {
      ...base,
      status: 'FAILED',
      reason: `the trial task answered wrongly ${failingStreak} time(s) in a row: ${answers.reason}`,
      progress: { polls, failingStreak },
    };
  const ageSeconds = task.createdAt ? (probe.now.getTime() - task.createdAt.getTime()) / 1000 : 0;
  if (ageSeconds >= policy.timeoutSeconds)
    return {
      ...base,
      status: 'FAILED',
      reason: `the trial task did not serve within ${policy.timeoutSeconds} s: ${answers.reason}`,
      progress: { polls, failingStreak },
    };
  return {
    ...base,
    status: 'IN_PROGRESS',
    reason: answers.reason,
    progress: { polls, failingStreak },
  };
}

/**
 * Asks the trial task what `judgeTrial` needs, in order, stopping at the first answer that
 * settles the poll (so a broken health path costs one request). `get` is the HTTP client
 * (the Lambda's to the task's IP, local mode's to 127.0.0.1:<port>).
 */
export async function probeTrialTask(
  healthPath: string,
  task: TrialTaskView | undefined,
  get: (path: string) => Promise<HttpAnswer>,
): Promise<Pick<TrialProbe, 'health' | 'readyz' | 'home'>> {
  if (task?.lastStatus !== 'RUNNING' || !task.address) return {};
  const ok = (a: HttpAnswer) => 'status' in a && a.status === 200;
  const health = await get(healthPath);
  if (!ok(health)) return { health };
  const readyz = await get('/readyz');
  if (!ok(readyz)) return { health, readyz };
  return { health, readyz, home: await get('/') };
}

/**
 * The trial task from DescribeTasks, read as VerifyApplication reads its one-off task (a task
 * ECS answers MISSING for has stopped), with its creation time for the trial's timeout.
 */
export async function describeTrialTask(
  ecs: ECSClient,
  cluster: string,
  taskArn: string,
): Promise<TrialTaskView> {
  const described = await describeTask(ecs, cluster, taskArn);
  const { task, address } = sightTask(described);
  const createdAt = described.tasks?.[0]?.createdAt;
  return {
    taskArn,
    lastStatus: task.lastStatus,
    ...(createdAt ? { createdAt } : {}),
    ...(task.stoppedReason ? { stoppedReason: task.stoppedReason } : {}),
    containers: task.containers.map((c) => ({
      name: c.name,
      ...(c.exitCode !== undefined && c.exitCode !== null ? { exitCode: c.exitCode } : {}),
      ...(c.reason ? { reason: c.reason } : {}),
    })),
    ...(address ? { address } : {}),
  };
}

/** Where and how the Lambda reaches a trial task (the container port, the site's Host). */
export interface TrialTarget {
  readonly appPort: number;
  readonly siteHost: string;
  readonly healthPath: string;
}

/** One poll of the trial on AWS: DescribeTasks, then HTTP to the task's private IP. */
export async function checkTrial(
  event: CheckTrialEvent,
  ecs: ECSClient,
  target: TrialTarget,
  now: () => Date = () => new Date(),
): Promise<TrialVerdict> {
  const [taskArn] = event.tasks;
  const task = taskArn ? await describeTrialTask(ecs, event.cluster, taskArn) : undefined;
  const answers = await probeTrialTask(target.healthPath, task, (path) =>
    httpGet(task?.address ?? '', target.appPort, path, target.siteHost),
  );
  return judgeTrial(
    target.healthPath,
    { task, failures: event.failures, ...answers, now: now() },
    event.policy,
    event.progress,
  );
}
