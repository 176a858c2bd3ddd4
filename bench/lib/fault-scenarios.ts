/**
 * The release scenarios under load and faults, shared by the bench (`npm run bench -- faults`)
 * and the e2e test (test/e2e/local-faults.test.ts): each drives the real command line
 * (`stepdeploy local release|rollback --json`) of a local stack of its own, under a fixed-rate
 * load of the home page through the load balancer, injects its fault when the system itself
 * shows the moment has come (a new task container of the new revision is running; the
 * execution entered CheckHealth) — never after a fixed sleep — and reads back the end state of
 * the service and of the load balancer.
 *
 * Every request, check and probe goes to 127.0.0.1.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { sleep } from '#commons/wait.ts';
import { inspectContainer, LABEL_REVISION, LABEL_ROLE, LABEL_SERVICE } from '#local/docker.ts';
import { LoadBalancer } from '#local/load-balancer.ts';
import type { LocalServiceState, ServiceEvent } from '#local/scheduler.ts';
import { ledgerTable } from '#local/steps/context.ts';
import { TRIAL_TASK_ROLE } from '#local/steps/trial.ts';
import { serviceTable, TaskDefinitionStore } from '#local/task-definitions.ts';
import { type LocalTask, listTasks } from '#local/tasks.ts';
import { type LoadResult, startLoad } from './load.ts';

const execFileP = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');

/** Where a private local stack lives and listens (all on 127.0.0.1). */
export interface FaultStackSettings {
  /** STEPDEPLOY_HOME: keep it short, the HAProxy socket lives there. */
  readonly home: string;
  readonly service: string;
  readonly sitePort: number;
  readonly registryPort: number;
  readonly databasePort: number;
  readonly taskPortBase: number;
  /** Extra environment for the command line (e.g. STEPDEPLOY_TIME_FACTOR). */
  readonly env?: NodeJS.ProcessEnv;
}

/** A private local stack as the command line sees it. */
export interface FaultStack extends FaultStackSettings {
  /** The environment every `stepdeploy local` call of this stack runs with. */
  readonly cliEnv: NodeJS.ProcessEnv;
  /** The home page through the load balancer. */
  readonly siteUrl: string;
  /** The database container (`docker restart` target). */
  readonly databaseContainer: string;
}

/** The stack for these settings. Pure. */
export function faultStack(settings: FaultStackSettings): FaultStack {
  return {
    ...settings,
    cliEnv: {
      ...process.env,
      ...settings.env,
      STEPDEPLOY_HOME: settings.home,
      STEPDEPLOY_SERVICE: settings.service,
      STEPDEPLOY_SITE_PORT: String(settings.sitePort),
      STEPDEPLOY_REGISTRY_PORT: String(settings.registryPort),
      STEPDEPLOY_DB_PORT: String(settings.databasePort),
      STEPDEPLOY_TASK_PORT_BASE: String(settings.taskPortBase),
    },
    siteUrl: `http://127.0.0.1:${settings.sitePort}/`,
    databaseContainer: `stepdeploy-${settings.service}-db`,
  };
}

/** How one `stepdeploy local …` call ended. */
export interface CliRun {
  readonly args: readonly string[];
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly startedAt: number;
  readonly endedAt: number;
}

/** A running `stepdeploy local …` call. */
export interface CliHandle {
  readonly child: ChildProcess;
  readonly done: Promise<CliRun>;
  /** Its stderr so far (progress: `▶ <Step>` lines, scheduler notes). */
  stderr(): string;
  /**
   * Resolves true once the execution entered the named state (the `▶ <state>` progress line),
   * false if the call ends first.
   */
  entered(state: string): Promise<boolean>;
}

/** Starts `stepdeploy local <args>` through the real entry point (bin/stepdeploy.js). */
export function startCli(stack: FaultStack, args: readonly string[]): CliHandle {
  const startedAt = Date.now();
  const child = spawn(process.execPath, [resolve(ROOT, 'bin', 'stepdeploy.js'), 'local', ...args], {
    cwd: ROOT,
    env: stack.cliEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let ended = false;
  const waiters: { state: string; resolve: (v: boolean) => void }[] = [];
  const seen = (state: string) => new RegExp(`^▶ ${state}\\b`, 'm').test(stderr);
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const w of [...waiters])
      if (seen(w.state)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(true);
      }
  });
  const done = new Promise<CliRun>((ok) =>
    child.on('close', (code) => {
      ended = true;
      for (const w of waiters.splice(0)) w.resolve(seen(w.state));
      ok({ args, code, stdout, stderr, startedAt, endedAt: Date.now() });
    }),
  );
  return {
    child,
    done,
    stderr: () => stderr,
    entered: (state) =>
      seen(state) || ended
        ? Promise.resolve(seen(state))
        : new Promise<boolean>((r) => waiters.push({ state, resolve: r })),
  };
}

/** Runs `stepdeploy local <args>` to its end. */
export function cli(stack: FaultStack, args: readonly string[]): Promise<CliRun> {
  return startCli(stack, args).done;
}

/** The JSON a `--json` call printed on stdout; throws with its stderr tail when there is none. */
export function jsonOf<T = Record<string, unknown>>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(
      `stepdeploy local ${run.args.join(' ')} printed no JSON (exit ${run.code}): ${run.stdout.slice(0, 2000)}\n--- stderr ---\n${run.stderr.slice(-4000)}`,
    );
  }
}

/** What `stepdeploy local release|rollback --json` prints (the parts the scenarios read). */
export interface ReleaseJson {
  readonly executionName?: string;
  readonly releaseId: string | null;
  readonly status: string;
  readonly outcome: string;
  readonly error?: string | null;
  readonly cause: string | null;
  readonly input?: { readonly source?: { readonly type?: string; readonly imageUri?: string } };
  readonly failure: {
    readonly step: string;
    readonly error: string;
    readonly reason: string;
  } | null;
  readonly durationsMs?: Record<string, number>;
  readonly steps?: readonly { readonly step: string; readonly status?: string }[];
  readonly record: {
    readonly outcome: string;
    readonly imageUri?: string;
    readonly taskDefinitionArn?: string;
    readonly previousTaskDefinitionArn?: string;
    readonly rollbackTaskDefinitionArn?: string;
  } | null;
  readonly serviceEvents?: readonly ServiceEvent[];
}

/** The service record and its tasks at one moment. */
export interface ServiceView {
  readonly taskDefinition: string | null;
  readonly revision: number | null;
  readonly desiredCount: number | null;
  /** The image of the service's revision (pinned by digest). */
  readonly image: string | null;
  readonly tasks: readonly LocalTask[];
  /** Names of trial task containers still there. */
  readonly trials: readonly string[];
}

const revisionOf = (arn: string | null | undefined) => {
  const n = Number(arn?.split(':').pop());
  return Number.isInteger(n) ? n : null;
};

/** Reads the local service record, its revision's image and every task of the service. */
export async function serviceView(stack: FaultStack): Promise<ServiceView> {
  const record = (await serviceTable(stack.home)
    .get({ serviceName: stack.service })
    .catch(() => undefined)) as LocalServiceState | undefined;
  const taskDefinition = record?.taskDefinition ?? null;
  const td = taskDefinition
    ? await new TaskDefinitionStore(stack.home).describe(taskDefinition).catch(() => undefined)
    : undefined;
  return {
    taskDefinition,
    revision: revisionOf(taskDefinition),
    desiredCount: record?.desiredCount ?? null,
    image: td?.containerDefinitions?.[0]?.image ?? null,
    tasks: await listTasks({ stateDir: stack.home, service: stack.service }),
    trials: (
      await listTasks({ stateDir: stack.home, service: stack.service, role: TRIAL_TASK_ROLE })
    ).map((t) => t.name),
  };
}

/** One target registered in HAProxy with its health as ELBv2 would report it. */
export interface TargetView {
  readonly name: string;
  readonly port: number;
  readonly state: string;
  readonly reason: string | null;
}

/** What the load balancer holds: every server of the backend, with its health. */
export async function targetsView(stack: FaultStack): Promise<TargetView[]> {
  const lb = new LoadBalancer({
    service: stack.service,
    stateDir: stack.home,
    port: stack.sitePort,
  });
  const [servers, health] = await Promise.all([lb.servers(), lb.describeTargetHealth()]);
  const byPort = new Map(health.map((h) => [h.Target?.Port, h.TargetHealth] as const));
  return servers.map((s) => ({
    name: s.name,
    port: s.port,
    state: byPort.get(s.port)?.State ?? 'unknown',
    reason: byPort.get(s.port)?.Reason ?? null,
  }));
}

/** The end state of the service and of the load balancer after an execution. */
export interface EndState {
  readonly taskDefinition: string | null;
  readonly revision: number | null;
  readonly desiredCount: number | null;
  readonly image: string | null;
  /** Running tasks of the revision the service record names. */
  readonly serving: readonly { readonly name: string; readonly port: number }[];
  /** Other tasks still there (any status), e.g. a killed container kept like a stopped task. */
  readonly others: readonly {
    readonly name: string;
    readonly revision: number;
    readonly lastStatus: string;
    readonly stoppedReason: string | null;
  }[];
  readonly targets: readonly TargetView[];
  /** Every way the state differs from "targets == the running tasks of the service's revision, all healthy". */
  readonly problems: readonly string[];
}

/**
 * Judges an end state: the service record names a revision; exactly `desiredCount` tasks of
 * it run; the targets in the load balancer are exactly those tasks (same names, same ports),
 * every one healthy; no task of another revision still runs; no trial task is left. Returns the problems (none: the
 * promise holds). Pure.
 */
export function judgeEndState(input: {
  readonly taskDefinition: string | null;
  readonly desiredCount: number | null;
  readonly tasks: readonly Pick<
    LocalTask,
    'name' | 'port' | 'taskDefinitionArn' | 'lastStatus' | 'revision'
  >[];
  readonly targets: readonly TargetView[];
  /** Trial task containers still there (a trial never outlives its release). */
  readonly trials?: readonly string[];
}): string[] {
  const problems: string[] = (input.trials ?? []).map(
    (name) => `trial task ${name} outlived its release`,
  );
  if (!input.taskDefinition) return [...problems, 'the service record names no revision'];
  const rev = input.taskDefinition.split('/').pop();
  const serving = input.tasks.filter(
    (t) => t.taskDefinitionArn === input.taskDefinition && t.lastStatus === 'RUNNING',
  );
  if (input.desiredCount !== null && serving.length !== input.desiredCount)
    problems.push(`${serving.length} task(s) of ${rev} running, ${input.desiredCount} desired`);
  const targets = new Map(input.targets.map((t) => [t.name, t]));
  for (const t of serving) {
    const target = targets.get(t.name);
    if (!target) problems.push(`task ${t.name} of ${rev} is running but not registered`);
    else if (target.port !== t.port)
      problems.push(`target ${t.name} is on port ${target.port}, its task on ${t.port}`);
  }
  const names = new Set(serving.map((t) => t.name));
  for (const t of input.targets) {
    if (!names.has(t.name)) {
      const task = input.tasks.find((x) => x.name === t.name);
      problems.push(
        `target ${t.name}:${t.port} (${t.state}) is registered but is ${task ? `a ${task.lastStatus} task of revision ${task.revision}` : 'no task'}, not a running task of ${rev}`,
      );
    } else if (t.state !== 'healthy')
      problems.push(`target ${t.name}:${t.port} is ${t.state}${t.reason ? ` (${t.reason})` : ''}`);
  }
  for (const t of input.tasks)
    if (t.lastStatus !== 'STOPPED' && t.taskDefinitionArn !== input.taskDefinition)
      problems.push(`task ${t.name} of revision ${t.revision} is still ${t.lastStatus}`);
  return problems;
}

/** Reads and judges the end state of the service and of the load balancer. */
export async function endState(stack: FaultStack): Promise<EndState> {
  const [view, targets] = await Promise.all([serviceView(stack), targetsView(stack)]);
  const serving = view.tasks.filter(
    (t) => t.taskDefinitionArn === view.taskDefinition && t.lastStatus === 'RUNNING',
  );
  return {
    taskDefinition: view.taskDefinition,
    revision: view.revision,
    desiredCount: view.desiredCount,
    image: view.image,
    serving: serving.map((t) => ({ name: t.name, port: t.port })),
    others: view.tasks
      .filter((t) => !serving.includes(t))
      .map((t) => ({
        name: t.name,
        revision: t.revision,
        lastStatus: t.lastStatus,
        stoppedReason: t.stoppedReason ?? null,
      })),
    targets,
    problems: judgeEndState({
      taskDefinition: view.taskDefinition,
      desiredCount: view.desiredCount,
      tasks: view.tasks,
      targets,
      trials: view.trials,
    }),
  };
}

/** The scenarios, in the order the bench runs them. */
export const FAULT_SCENARIOS = [
  'good',
  'failing',
  'rollback',
  'kill-new',
  'kill-old',
  'db-restart',
  'fault-home',
  'crash',
] as const;
/** One scenario. */
export type FaultScenario = (typeof FAULT_SCENARIOS)[number];

/** What each scenario does and the outcome it must end in. */
export const SCENARIO_SPECS: Record<
  FaultScenario,
  { readonly label: string; readonly expected: string; readonly what: string }
> = {
  good: {
    label: 'good release',
    expected: 'SUCCEEDED',
    what: '`local release --source <copy of site/ with one file added>` (a real Packer build of a site change)',
  },
  failing: {
    label: 'failing release (/healthz 500), refused by its trial task',
    expected: 'FAILED',
    what: '`local release --fault healthz` (a real build of an image whose /healthz answers 500)',
  },
  rollback: {
    label: 'rollback with no build',
    expected: 'SUCCEEDED',
    what: '`local rollback` (the last known-good image before the live one, no build)',
  },
  'kill-new': {
    label: 'new task killed mid-rollout',
    expected: 'SUCCEEDED',
    what: '`local release --image <known-good image>`; `docker kill` of the first new task as soon as its container runs (the scheduler replaces it, as ECS does)',
  },
  'kill-old': {
    label: 'known-good task killed mid-rollout',
    expected: 'SUCCEEDED',
    what: '`local release --image <known-good image>`; `docker kill` of one task of the revision being replaced as soon as the first new task runs',
  },
  'db-restart': {
    label: 'MariaDB restarted during the health gate',
    expected: 'SUCCEEDED',
    what: '`local release --image <known-good image>`; `docker restart` of the database once the execution entered CheckHealth and a new task runs',
  },
  'fault-home': {
    label: 'failing release (home page 500, /healthz 200), refused by its trial task',
    expected: 'FAILED',
    what: '`local release --fault home` (a real build; its trial task asked / directly: the target health alone would pass it)',
  },
  crash: {
    label: 'release crashing on start, refused by its trial task',
    expected: 'FAILED',
    what: '`local release --fault crash` (a real build of an image whose container exits non-zero at start)',
  },
};

/** A fault the scenario injected, and what triggered it. */
export interface Injection {
  readonly kind: 'kill-new-task' | 'kill-known-good-task' | 'restart-database';
  /** Container acted on. */
  readonly target: string;
  /** When the action started (epoch ms). */
  readonly at: number;
  /** How long the action took (docker kill / restart), ms. */
  readonly tookMs: number;
  /** The system state that triggered it. */
  readonly trigger: string;
}

/** One scenario run. */
export interface FaultRun {
  readonly scenario: FaultScenario;
  readonly label: string;
  readonly expected: string;
  /** The outcome the command line reported (ERROR when it printed no result). */
  readonly outcome: string;
  readonly ratePerSecond: number;
  readonly args: readonly string[];
  readonly startedAt: number;
  readonly endedAt: number;
  readonly before: {
    readonly taskDefinition: string | null;
    readonly image: string | null;
    readonly tasks: readonly string[];
  };
  readonly release: ReleaseJson | null;
  readonly cliError?: string;
  readonly load: LoadResult;
  /** Undefined for scenarios with no injection; `notInjected` says why one never happened. */
  readonly injection?: Injection;
  readonly notInjected?: string;
  readonly end: EndState;
  /** The last progress lines of the command line. */
  readonly stderrTail: string;
}

/** Options of {@link runFaultScenario}. */
export interface FaultRunOptions {
  /** Requests per second of the load through the whole execution. */
  readonly ratePerSecond: number;
  /** Source label of a built release (default `<scenario>-<time>`). */
  readonly label?: string;
  /** Image for the --image scenarios (default: the newest known-good image that is not live). */
  readonly image?: string;
  /** Build a new revision instead of redeploying an image in the fault-injection scenarios. */
  readonly build?: boolean;
  /**
   * Release the repository's site/ as it is instead of a changed copy (default false): an
   * unchanged source reuses the last image, so a `good` release then builds nothing.
   */
  readonly unchangedSource?: boolean;
  /** Per-request timeout of the load (default 10 s). */
  readonly timeoutMs?: number;
  /** Requests of the load waiting at most; one due beyond it fails unsent (default 4 × rate, at least 4). */
  readonly maxInFlight?: number;
  readonly log?: (line: string) => void;
}

/**
 * The newest SUCCEEDED image in the ledger other than `live` (the bootstrap records its image
 * too), else `live`: a redeploy that swaps images without a build.
 */
export async function knownGoodImage(stack: FaultStack, live: string | null): Promise<string> {
  const records = await ledgerTable(stack.home)
    .query(stack.service)
    .catch(() => []);
  const good = records
    .filter((r) => r.outcome === 'SUCCEEDED' && typeof r.imageUri === 'string')
    .sort((a, b) => String(b.finishedAt ?? '').localeCompare(String(a.finishedAt ?? '')))
    .map((r) => r.imageUri as string)
    .filter((uri) => /@sha256:[a-f0-9]{64}$/.test(uri));
  const pick = good.find((uri) => uri !== live) ?? live ?? good[0];
  if (!pick) throw new Error(`no known-good image of ${stack.service} to redeploy`);
  return pick;
}

/** The scenarios that build their release from a source. */
const BUILT: ReadonlySet<FaultScenario> = new Set(['good', 'failing', 'fault-home', 'crash']);

/**
 * A copy of the repository's site/ with one must-use plugin naming `label` added: a real
 * change of the site's code, as a person makes one, so the release builds (an unchanged
 * source would reuse the last image). Under `home`/bench-sources/<label>.
 */
export async function changedSiteSource(home: string, label: string): Promise<string> {
  const dir = join(home, 'bench-sources', label);
  await mkdir(dir, { recursive: true });
  await cp(resolve(import.meta.dirname, '..', '..', 'site'), dir, { recursive: true });
  await mkdir(join(dir, 'mu-plugins'), { recursive: true });
  await writeFile(
    join(dir, 'mu-plugins', 'stepdeploy-bench-release.php'),
    `<?php\n// Release ${label} of the faults bench: a change to the site's code, so it builds.\n`,
  );
  return dir;
}

/** The command line of a scenario. Pure. */
export function scenarioArgs(
  scenario: FaultScenario,
  source: { readonly label: string; readonly image?: string; readonly sourceDir?: string },
): string[] {
  const built = [
    'release',
    '--revision',
    source.label,
    ...(source.sourceDir ? ['--source', source.sourceDir] : []),
  ];
  switch (scenario) {
    case 'good':
      return [...built, '--json'];
    case 'failing':
      return [...built, '--fault', 'healthz', '--json'];
    case 'fault-home':
      return [...built, '--fault', 'home', '--json'];
    case 'crash':
      return [...built, '--fault', 'crash', '--json'];
    case 'rollback':
      return ['rollback', '--json'];
    default:
      return source.image ? ['release', '--image', source.image, '--json'] : [...built, '--json'];
  }
}

/** A task container of the service that started. */
interface TaskStart {
  readonly name: string;
  readonly revision: number;
}

/**
 * Follows Docker's own event stream (`docker events`: one process, no polling) for task
 * containers of the service starting, so a fault can follow the moment a new task runs.
 */
function watchTaskStarts(stack: FaultStack): {
  /** The first task of a revision newer than `revision` whose container runs, or undefined when `over()`. */
  firstRunning(revision: number, over: () => boolean): Promise<TaskStart | undefined>;
  stop(): void;
} {
  const child = spawn(
    'docker',
    [
      'events',
      '--format',
      '{{json .}}',
      '--filter',
      'type=container',
      '--filter',
      'event=start',
      '--filter',
      `label=${LABEL_SERVICE}=${stack.service}`,
      '--filter',
      `label=${LABEL_ROLE}=task`,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const started: TaskStart[] = [];
  let wake: (() => void) | undefined;
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      const a = (JSON.parse(line) as { Actor?: { Attributes?: Record<string, string> } }).Actor
        ?.Attributes;
      if (a?.name) started.push({ name: a.name, revision: Number(a[LABEL_REVISION] ?? 0) });
    } catch {
      // not an event line
    }
    wake?.();
  });
  return {
    async firstRunning(revision, over) {
      // A task that started before the stream was open is found by one listing.
      for (const t of await listTasks({ stateDir: stack.home, service: stack.service }))
        if (t.revision > revision && t.lastStatus === 'RUNNING')
          return { name: t.name, revision: t.revision };
      const checked = new Set<string>();
      for (;;) {
        for (const t of started.filter((x) => x.revision > revision && !checked.has(x.name))) {
          checked.add(t.name);
          if ((await inspectContainer(t.name).catch(() => undefined))?.State.Running) return t;
        }
        if (over()) return undefined;
        await Promise.race([
          new Promise<void>((r) => {
            wake = r;
          }),
          sleep(500),
        ]);
      }
    },
    stop: () => {
      child.kill();
    },
  };
}

async function dockerAction(args: readonly string[]): Promise<number> {
  const started = Date.now();
  await execFileP('docker', args as string[]);
  return Date.now() - started;
}

/** Injects the scenario's fault when the system shows the moment; undefined when none is due. */
async function inject(
  scenario: FaultScenario,
  stack: FaultStack,
  run: CliHandle,
  before: ServiceView,
  over: () => boolean,
): Promise<{ injection?: Injection; notInjected?: string } | undefined> {
  if (scenario !== 'kill-new' && scenario !== 'kill-old' && scenario !== 'db-restart')
    return undefined;
  const revision = before.revision ?? 0;
  const starts = watchTaskStarts(stack);
  let fresh: TaskStart | undefined;
  try {
    if (scenario === 'db-restart' && !(await run.entered('CheckHealth')))
      return { notInjected: 'the execution ended before it entered CheckHealth' };
    fresh = await starts.firstRunning(revision, over);
  } finally {
    starts.stop();
  }
  if (!fresh)
    return {
      notInjected: `no task of a revision newer than ${revision} was seen running before the execution ended`,
    };
  const trigger = `task ${fresh.name} of new revision ${fresh.revision} running${scenario === 'db-restart' ? ', execution in CheckHealth' : ''}`;
  if (scenario === 'kill-new') {
    const at = Date.now();
    const tookMs = await dockerAction(['kill', fresh.name]);
    return { injection: { kind: 'kill-new-task', target: fresh.name, at, tookMs, trigger } };
  }
  if (scenario === 'kill-old') {
    const tasks = await listTasks({ stateDir: stack.home, service: stack.service });
    const old = tasks.find(
      (t) =>
        t.taskDefinitionArn === before.taskDefinition &&
        t.lastStatus === 'RUNNING' &&
        before.tasks.some((b) => b.name === t.name),
    );
    if (!old)
      return {
        notInjected: `no task of the replaced revision ${revision} was running when ${fresh.name} started`,
      };
    const at = Date.now();
    const tookMs = await dockerAction(['kill', old.name]);
    return {
      injection: { kind: 'kill-known-good-task', target: old.name, at, tookMs, trigger },
    };
  }
  const at = Date.now();
  const tookMs = await dockerAction(['restart', stack.databaseContainer]);
  return {
    injection: { kind: 'restart-database', target: stack.databaseContainer, at, tookMs, trigger },
  };
}

/**
 * Runs one scenario: a fixed-rate load of the home page from before the command starts until
 * a second after it ends, the fault injected at its moment, then the end state.
 */
export async function runFaultScenario(
  stack: FaultStack,
  scenario: FaultScenario,
  opts: FaultRunOptions,
): Promise<FaultRun> {
  const log = opts.log ?? (() => {});
  const spec = SCENARIO_SPECS[scenario];
  const before = await serviceView(stack);
  const needsImage = ['kill-new', 'kill-old', 'db-restart'].includes(scenario) && !opts.build;
  const image = needsImage
    ? (opts.image ?? (await knownGoodImage(stack, before.image)))
    : undefined;
  const label = opts.label ?? `${scenario}-${Date.now().toString(36)}`;
  const sourceDir =
    !opts.unchangedSource && (BUILT.has(scenario) || (opts.build && !image))
      ? await changedSiteSource(stack.home, label)
      : undefined;
  const args = scenarioArgs(scenario, {
    label,
    ...(image ? { image } : {}),
    ...(sourceDir ? { sourceDir } : {}),
  });
  log(`${scenario}: stepdeploy local ${args.join(' ')} under ${opts.ratePerSecond} req/s`);
  const load = startLoad({
    url: stack.siteUrl,
    ratePerSecond: opts.ratePerSecond,
    maxRequests: 100_000,
    maxMs: 30 * 60_000,
    strict: true,
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.maxInFlight ? { maxInFlight: opts.maxInFlight } : {}),
  });
  const startedAt = Date.now();
  const handle = startCli(stack, args);
  let ended = false;
  const injected = inject(scenario, stack, handle, before, () => ended);
  const run = await handle.done;
  ended = true;
  const inj: { injection?: Injection; notInjected?: string } | undefined = await injected.catch(
    (e: unknown) => ({
      notInjected: `the injection failed: ${e instanceof Error ? e.message : String(e)}`,
    }),
  );
  // A second of load after the end shows whether the service still serves.
  await sleep(1000);
  const loadResult = await load.stop();
  let release: ReleaseJson | null = null;
  let cliError: string | undefined;
  try {
    const printed = jsonOf<ReleaseJson & { error?: unknown }>(run);
    const refused = printed.error as { name?: string; message?: string; hint?: string } | null;
    // A command refused before any execution prints `{"error": {name, message, hint}}`.
    if (printed.outcome === undefined && refused && typeof refused === 'object')
      cliError = `${refused.name ?? 'Error'}: ${refused.message ?? ''}${refused.hint ? ` (hint: ${refused.hint})` : ''}`;
    else release = printed;
  } catch (error) {
    cliError = error instanceof Error ? error.message : String(error);
  }
  const end = await endState(stack);
  const outcome = release?.outcome ?? 'ERROR';
  log(
    `${scenario}: ${outcome} (expected ${spec.expected}), ${loadResult.failed}/${loadResult.sent} requests failed${inj?.injection ? `, ${inj.injection.kind} ${inj.injection.target}` : ''}${inj?.notInjected ? `, NOT injected: ${inj.notInjected}` : ''}; end state: ${end.problems.length === 0 ? 'ok' : end.problems.join('; ')}`,
  );
  return {
    scenario,
    label: spec.label,
    expected: spec.expected,
    outcome,
    ratePerSecond: opts.ratePerSecond,
    args,
    startedAt,
    endedAt: run.endedAt,
    before: {
      taskDefinition: before.taskDefinition,
      image: before.image,
      tasks: before.tasks.filter((t) => t.lastStatus === 'RUNNING').map((t) => t.name),
    },
    release,
    ...(cliError ? { cliError } : {}),
    load: loadResult,
    ...(inj?.injection ? { injection: inj.injection } : {}),
    ...(inj?.notInjected ? { notInjected: inj.notInjected } : {}),
    end,
    stderrTail: run.stderr.split('\n').slice(-40).join('\n'),
  };
}

/** Milliseconds from a release's first deployment created to its last deployment completed. Pure. */
export function rolloutWindow(
  events: readonly ServiceEvent[] | undefined,
): { readonly from: number; readonly to: number | undefined } | undefined {
  const created = events?.find((e) => e.type === 'deployment-created');
  if (!created) return undefined;
  const completed = events?.filter((e) => e.type === 'deployment-completed').pop();
  return { from: created.at, to: completed?.at };
}

/**
 * Milliseconds from the killed new task to the scheduler starting its replacement: the
 * scheduler's `task-replaced` event of the release's deployment after the kill (or, from a
 * scheduler that does not name replacements, the first task it started beyond the desired
 * count). Undefined when there was no such kill or no replacement. Pure.
 */
export function replacementMs(
  run: Pick<FaultRun, 'injection' | 'release'>,
  desiredCount: number,
): number | undefined {
  const at = run.injection?.at;
  if (at === undefined || run.injection?.kind !== 'kill-new-task') return undefined;
  const events = run.release?.serviceEvents ?? [];
  const deployment = events.find((e) => e.type === 'deployment-created')?.deploymentId;
  const ours = events.filter((e) => e.deploymentId === deployment);
  const replaced =
    ours.find((e) => e.type === 'task-replaced' && e.at >= at) ??
    ours
      .filter((e) => e.type === 'task-started')
      .slice(desiredCount)
      .find((e) => e.at >= at);
  return replaced ? replaced.at - at : undefined;
}

/** A scenario's fault with no release running: what the fault alone costs. */
export interface FaultAtRest {
  readonly load: LoadResult;
  readonly injection: Injection;
  /** From the restart command to MariaDB answering a ping again, ms (null: never within the load). */
  readonly databaseBackMs?: number | null;
}

/** Options of {@link restartDatabaseAtRest} and {@link killTaskAtRest}. */
export interface FaultAtRestOptions {
  readonly ratePerSecond: number;
  /** Seconds of load in all (default 30). */
  readonly seconds?: number;
  /** When, in the load, the fault comes (default 10 s: a settled site before it). */
  readonly faultAfterMs?: number;
}

/**
 * Injects a fault under the scenario's load with no execution running, so the latency the
 * fault itself causes is measured in the same run as the scenario it is the yardstick of.
 * There is no system moment to wait for here, so the fault comes after a fixed settle, and the
 * load runs on until its end.
 */
async function faultAtRest<T>(
  stack: FaultStack,
  opts: FaultAtRestOptions,
  fault: (seconds: number) => Promise<{ readonly injection: Omit<Injection, 'trigger'> } & T>,
): Promise<{ readonly load: LoadResult; readonly injection: Injection } & Omit<T, 'injection'>> {
  const seconds = opts.seconds ?? 30;
  const load = startLoad({
    url: stack.siteUrl,
    ratePerSecond: opts.ratePerSecond,
    maxRequests: Math.ceil(opts.ratePerSecond * seconds),
    maxMs: seconds * 1000,
    strict: true,
  });
  await sleep(opts.faultAfterMs ?? 10_000);
  const { injection, ...rest } = await fault(seconds);
  return {
    ...rest,
    load: await load.finished(),
    injection: {
      ...injection,
      trigger: `${Math.round((opts.faultAfterMs ?? 10_000) / 1000)} s into a load with no release`,
    },
  };
}

/**
 * Restarts MariaDB (`docker restart`, as the db-restart scenario does) at rest, then pings the
 * server until it answers, so the next scenario starts on a serving database.
 */
export function restartDatabaseAtRest(
  stack: FaultStack,
  opts: FaultAtRestOptions,
): Promise<FaultAtRest> {
  return faultAtRest(stack, opts, async (seconds) => {
    const at = Date.now();
    const tookMs = await dockerAction(['restart', stack.databaseContainer]);
    let databaseBackMs: number | null = null;
    const pingUntil = at + seconds * 1000;
    while (Date.now() < pingUntil) {
      const answered = await execFileP('docker', [
        'exec',
        stack.databaseContainer,
        'mariadb-admin',
        'ping',
        '--silent',
      ]).then(
        () => true,
        () => false,
      );
      if (answered) {
        databaseBackMs = Date.now() - at;
        break;
      }
      await sleep(100);
    }
    const injection = {
      kind: 'restart-database' as const,
      target: stack.databaseContainer,
      at,
      tookMs,
    };
    return { injection, databaseBackMs };
  });
}

/**
 * Kills one running task of the service (`docker kill`, as the kill-old scenario does) at
 * rest. Local mode has no scheduler between commands, so the other task carries the load to
 * the end of the window (ECS would start a replacement, serving only after its start and
 * rise x interval, longer than the window); the caller brings the service back (`local up`).
 */
export function killTaskAtRest(stack: FaultStack, opts: FaultAtRestOptions): Promise<FaultAtRest> {
  return faultAtRest(stack, opts, async () => {
    const running = (await listTasks({ stateDir: stack.home, service: stack.service })).find(
      (t) => t.lastStatus === 'RUNNING',
    );
    if (!running) throw new Error('no running task of the service to kill at rest');
    const at = Date.now();
    const tookMs = await dockerAction(['kill', running.name]);
    return {
      injection: { kind: 'kill-known-good-task' as const, target: running.name, at, tookMs },
    };
  });
}
