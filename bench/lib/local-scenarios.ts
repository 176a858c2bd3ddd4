/**
 * Real local releases for the bench: the local stack (Docker, HAProxy, MariaDB, registry) of
 * a service of its own on free loopback ports, a bootstrap, then a good release, a release
 * whose tasks fail their health check and one whose tasks crash on start — each under a
 * fixed-rate load through the load balancer, with the first failing signal of the new tasks
 * taken from what the system itself saw: HAProxy's check log and Docker's exit time.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { sleep } from '#commons/wait.ts';
import { bootstrapService } from '#local/bootstrap.ts';
import { loadConfig } from '#local/config.ts';
import { inspectContainer, LABEL_ROLE, LABEL_SERVICE } from '#local/docker.ts';
import type { CheckEvent, HealthCheckSettings } from '#local/load-balancer.ts';
import { type LocalReleaseResult, type LocalSource, runLocalRelease } from '#local/release.ts';
import type { ServiceEvent } from '#local/scheduler.ts';
import { down, type StackHandle, up } from '#local/stack.ts';
import { TRIAL_TASK_ROLE } from '#local/steps/trial.ts';
import { releaseDefinition } from '#local/synth.ts';
import { type LoadResult, startLoad } from './load.ts';

const run = promisify(execFile);

/** The scenarios the bench releases. */
export type ScenarioName = 'good' | 'unhealthy' | 'crash';

/**
 * The first sign that a new task of the release is bad, as the system itself recorded it:
 *
 * - `health-check-failed`: the first health check by the load balancer (HAProxy's check log,
 *   its own timestamp) of a new task's target that the app answered wrongly: a Layer 6/7
 *   failure such as `wrong status, code: 500` or a timeout. Refused connections are not a
 *   signal: every task refuses them until its app listens.
 * - `container-exited`: a new task's container, or the release's trial task, stopped
 *   (Docker's FinishedAt), which is what ECS reports as a stopped task.
 * - `trial-answered-wrongly`: the first poll of the trial task (CheckTrial, entered at `at`)
 *   whose answer counted as wrong (its failing streak grew, or it refused the revision).
 */
export interface FailingSignal {
  readonly at: number;
  readonly kind: 'health-check-failed' | 'container-exited' | 'trial-answered-wrongly';
  readonly task: string;
  readonly detail: string;
}

/** One release on the local stack with what was observed around it. */
export interface ScenarioRun {
  readonly scenario: ScenarioName;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly result: LocalReleaseResult;
  readonly serviceEvents: readonly ServiceEvent[];
  readonly load: LoadResult;
  readonly firstFailingSignal?: FailingSignal;
}

/** Everything the local runs produced. */
export interface LocalScenarios {
  readonly healthCheck: Omit<HealthCheckSettings, 'startGraceMs'> &
    Partial<Pick<HealthCheckSettings, 'startGraceMs'>>;
  readonly definition: StateMachineDefinition;
  readonly bootstrapMs: number;
  readonly runs: readonly ScenarioRun[];
  /** The same load against the service at rest (no release), before the scenarios. */
  readonly baseline?: LoadResult;
  /** Scenarios that could not run, with the reason. */
  readonly errors: readonly { readonly scenario: string; readonly reason: string }[];
}

/** Options of {@link runLocalScenarios}. */
export interface LocalScenarioOptions {
  readonly scenarios?: readonly ScenarioName[];
  /** Requests per second through the load balancer during each release (default 2). */
  readonly ratePerSecond?: number;
  /** Seconds of load with no release before the scenarios (default 30). */
  readonly baselineSeconds?: number;
  readonly log?: (line: string) => void;
}

/** The first port from `from` up that nothing listens on at 127.0.0.1. */
export function freePort(from: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', () => {
      if (from >= 65000) reject(new Error('no free port'));
      else resolve(freePort(from + 1));
    });
    server.listen(from, '127.0.0.1', () => server.close(() => resolve(from)));
  });
}

/** The release's new tasks (those its own deployment started). Pure. */
function newTasks(
  serviceEvents: readonly ServiceEvent[],
  isReleaseDeployment: (deploymentId: string) => boolean,
): Extract<ServiceEvent, { type: 'task-started' }>[] {
  return serviceEvents.filter(
    (e): e is Extract<ServiceEvent, { type: 'task-started' }> =>
      e.type === 'task-started' && isReleaseDeployment(e.deploymentId),
  );
}

/**
 * The first failed health check of a new task where the app answered (Layer 6/7), from
 * HAProxy's check log, or undefined. Pure.
 */
export function firstFailedCheck(
  events: readonly CheckEvent[],
  tasks: readonly string[],
): FailingSignal | undefined {
  const names = new Set(tasks);
  const first = events
    .filter((e) => e.verdict && names.has(e.server))
    .sort((a, b) => a.at - b.at)[0];
  return first
    ? { at: first.at, kind: 'health-check-failed', task: first.server, detail: first.reason }
    : undefined;
}

/** The part of a runner event the trial signal reads. */
interface TrialEvent {
  readonly type: string;
  readonly timestamp: number;
  readonly state?: { readonly name?: string; readonly output?: unknown };
}

/**
 * The first CheckTrial poll whose answer counted as wrong, timestamped when that poll started
 * (its probe is made inside the state), or undefined. Pure.
 */
export function firstTrialWrongAnswer(events: readonly TrialEvent[]): FailingSignal | undefined {
  let entered: number | undefined;
  for (const e of events) {
    if (e.state?.name !== 'CheckTrial') continue;
    if (e.type === 'StateEntered') entered = e.timestamp;
    else if (e.type === 'StateExited' && entered !== undefined) {
      const check = (
        e.state.output as
          | {
              trial?: {
                check?: {
                  status?: string;
                  reason?: string;
                  taskArn?: string;
                  progress?: { failingStreak?: number };
                };
              };
            }
          | undefined
      )?.trial?.check;
      if (check && ((check.progress?.failingStreak ?? 0) > 0 || check.status === 'FAILED'))
        return {
          at: entered,
          kind: 'trial-answered-wrongly',
          task: check.taskArn ?? 'trial task',
          detail: check.reason ?? check.status ?? 'wrong answer',
        };
    }
  }
  return undefined;
}

/** The earlier of two signals. Pure. */
export function earliest(
  ...signals: readonly (FailingSignal | undefined)[]
): FailingSignal | undefined {
  return signals.filter((s): s is FailingSignal => s !== undefined).sort((a, b) => a.at - b.at)[0];
}

/**
 * Watches the new tasks of a deployment every 100 ms for an exited container (a crashed task
 * is removed by the rollback, so its exit time must be read while it exists).
 */
function watchNewTasks(
  service: string,
  serviceEvents: readonly ServiceEvent[],
  isReleaseDeployment: (deploymentId: string) => boolean,
) {
  let signal: FailingSignal | undefined;
  let stop = false;
  const trialTasks = async (): Promise<string[]> => {
    const { stdout } = await run('docker', [
      'ps',
      '-a',
      '--format',
      '{{.Names}}',
      '--filter',
      `label=${LABEL_SERVICE}=${service}`,
      '--filter',
      `label=${LABEL_ROLE}=${TRIAL_TASK_ROLE}`,
    ]).catch(() => ({ stdout: '' }));
    return stdout.split('\n').filter(Boolean);
  };
  const loop = (async () => {
    while (!stop && !signal) {
      const watched = [
        ...newTasks(serviceEvents, isReleaseDeployment).map((t) => t.task),
        ...(await trialTasks()),
      ];
      for (const task of watched) {
        const c = await inspectContainer(task).catch(() => undefined);
        if (
          c &&
          !c.State.Running &&
          c.State.FinishedAt &&
          !c.State.FinishedAt.startsWith('0001-')
        ) {
          signal = {
            at: Date.parse(c.State.FinishedAt),
            kind: 'container-exited',
            task,
            detail: `exit code ${c.State.ExitCode}`,
          };
          break;
        }
      }
      await sleep(100);
    }
  })();
  return {
    async stop(): Promise<FailingSignal | undefined> {
      stop = true;
      await loop;
      return signal;
    },
  };
}

async function crashingImage(stack: StackHandle, fromImage: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stepdeploy-bench-crash-'));
  const tag = `${stack.registry.url.replace(/^https?:\/\//, '')}/stepdeploy-bench/crash:${Date.now().toString(36)}`;
  try {
    // The good image with an entrypoint that exits at once: a task that crashes on start.
    await writeFile(
      join(dir, 'Dockerfile'),
      `FROM ${fromImage}\nLABEL stepdeploy.bench=crash\nENTRYPOINT ["/bin/sh", "-c", "echo 'bench: crash on start' >&2; exit 3"]\nCMD []\n`,
    );
    await run('docker', ['build', '-q', '-t', tag, dir], { maxBuffer: 16 * 1024 * 1024 });
    await run('docker', ['push', '-q', tag], { maxBuffer: 16 * 1024 * 1024 });
    // ValidateInput takes only digest-pinned images, as on AWS.
    const { stdout } = await run('docker', [
      'image',
      'inspect',
      '--format',
      '{{json .RepoDigests}}',
      tag,
    ]);
    const repo = tag.slice(0, tag.lastIndexOf(':'));
    const pinned = (JSON.parse(stdout) as string[]).find((d) => d.startsWith(`${repo}@`));
    if (!pinned) throw new Error(`no pushed digest of ${tag}`);
    return pinned;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Brings up a private local stack, bootstraps the service, runs the scenarios in order and
 * always tears the stack down (only what carries this run's service label).
 */
export async function runLocalScenarios(opts: LocalScenarioOptions = {}): Promise<LocalScenarios> {
  const log = opts.log ?? (() => {});
  const scenarios = opts.scenarios ?? ['good', 'unhealthy', 'crash'];
  const stateDir = await mkdtemp(join(tmpdir(), 'stepdeploy-bench-local-'));
  const service = `benchfd${Date.now().toString(36).slice(-4)}`;
  const config = loadConfig({
    stateDir,
    service,
    sitePort: await freePort(18880),
    registryPort: await freePort(15080),
    databasePort: await freePort(13380),
    taskPortBase: await freePort(19100),
  });
  const runs: ScenarioRun[] = [];
  const errors: { scenario: string; reason: string }[] = [];
  const crashTags: string[] = [];
  try {
    log(`local stack ${service}: site 127.0.0.1:${config.sitePort}, state ${stateDir}`);
    const stack = await up({ ...config, log });
    const healthCheck = stack.loadBalancer.healthCheck;
    const definition = await releaseDefinition(stateDir, log);
    const bootStarted = Date.now();
    const boot = await bootstrapService(stack, { log });
    const bootstrapMs = Date.now() - bootStarted;
    log(`bootstrapped ${boot.taskDefinitionArn} in ${(bootstrapMs / 1000).toFixed(1)} s`);
    let goodImage: string | undefined;
    const rate = opts.ratePerSecond ?? 2;
    const baselineSeconds = opts.baselineSeconds ?? 30;
    // What the machine does to the same load with no release: the yardstick for dropped requests.
    const baselineLoad = startLoad({
      url: stack.siteUrl,
      ratePerSecond: rate,
      maxRequests: rate * baselineSeconds,
      maxMs: baselineSeconds * 1000 + 1000,
    });
    const baseline = await baselineLoad.finished();
    log(`baseline (no release): ${baseline.failed}/${baseline.sent} requests failed`);

    for (const scenario of scenarios) {
      try {
        let source: LocalSource;
        if (scenario === 'good')
          source = { kind: 'revision', label: `bench-good-${Date.now().toString(36)}` };
        else if (scenario === 'unhealthy')
          source = {
            kind: 'revision',
            label: `bench-bad-${Date.now().toString(36)}`,
            fault: 'healthz',
          };
        else {
          const from = goodImage ?? (await currentImage(stack));
          const tag = await crashingImage(stack, from);
          crashTags.push(tag);
          source = { kind: 'image', imageUri: tag };
        }
        log(`release ${scenario}`);
        const serviceEvents: ServiceEvent[] = [];
        const firstDeployment: { id?: string } = {};
        const isRelease = (id: string) => id === firstDeployment.id;
        const watcher = watchNewTasks(service, serviceEvents, isRelease);
        const load = startLoad({
          url: stack.siteUrl,
          ratePerSecond: rate,
          maxRequests: 20_000,
          maxMs: 20 * 60_000,
        });
        const startedAt = Date.now();
        let result: LocalReleaseResult;
        try {
          result = await runLocalRelease(
            stack,
            definition,
            { source, startedBy: 'stepdeploy-bench' },
            {
              note: (line) => log(`  ${line}`),
              onServiceEvent: (e) => {
                if (e.type === 'deployment-created' && firstDeployment.id === undefined)
                  firstDeployment.id = e.deploymentId;
                serviceEvents.push(e);
              },
            },
          );
        } finally {
          // A second of load after the end shows whether the service is still serving.
          await sleep(1000);
        }
        const endedAt = Date.now();
        const loadResult = await load.stop();
        const exited = await watcher.stop();
        const checks = await stack.loadBalancer.checkEvents().catch(() => []);
        const signal = earliest(
          exited,
          firstTrialWrongAnswer(result.events as never),
          firstFailedCheck(
            checks,
            newTasks(serviceEvents, isRelease).map((t) => t.task),
          ),
        );
        log(
          `  ${scenario}: ${result.outcome}, ${loadResult.failed}/${loadResult.sent} requests failed`,
        );
        if (scenario === 'good' && result.outcome === 'SUCCEEDED')
          goodImage = await currentImage(stack);
        runs.push({
          scenario,
          startedAt,
          endedAt,
          result,
          serviceEvents,
          load: loadResult,
          ...(signal ? { firstFailingSignal: signal } : {}),
        });
      } catch (error) {
        errors.push({ scenario, reason: error instanceof Error ? error.message : String(error) });
        log(`  ${scenario} failed to run: ${error instanceof Error ? error.message : error}`);
      }
    }
    return { healthCheck, definition, bootstrapMs, baseline, runs, errors };
  } finally {
    await down({ ...config }).catch((e) => log(`teardown: ${e instanceof Error ? e.message : e}`));
    for (const tag of crashTags)
      await run('docker', ['image', 'rm', '-f', tag]).catch(() => undefined);
    await rm(stateDir, { recursive: true, force: true });
  }
}

async function currentImage(stack: StackHandle): Promise<string> {
  const { stdout: ids } = await run('docker', [
    'ps',
    '-q',
    '--filter',
    `label=stepdeploy.service=${stack.config.service}`,
    '--filter',
    'label=stepdeploy.role=task',
  ]);
  const id = ids.trim().split('\n').filter(Boolean)[0];
  // The reference the task was started from (a digest reference: `docker ps` drops the digest).
  const image = id ? (await inspectContainer(id))?.Config.Image : undefined;
  if (!image) throw new Error(`no running task of ${stack.config.service} to take the image from`);
  return image;
}
