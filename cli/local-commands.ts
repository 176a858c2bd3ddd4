/**
 * What the local commands do when they run. cli/local.ts declares them and imports this
 * module inside their actions, so `--help` never loads local mode's runner, builders and
 * database client.
 */
import { hostname, userInfo } from 'node:os';
import { formatDuration } from '#execution/labels.ts';
import type { ExecutionProgress } from '#execution/progress.ts';
import { type BootstrapResult, bootstrapService } from '#local/bootstrap.ts';
import type { BuildPhaseEvent } from '#local/build-phases.ts';
import { type LocalConfig, loadConfig } from '#local/config.ts';
import { IMAGE_FAULTS, isImageFault } from '#local/image-faults.ts';
import {
  checkLabel,
  type LocalReleaseResult,
  type LocalSource,
  runLocalRelease,
} from '#local/release.ts';
import { down, type StackHandle, up } from '#local/stack.ts';
import { ledgerTable } from '#local/steps/context.ts';
import { releaseDefinition } from '#local/synth.ts';
import { serviceTable } from '#local/task-definitions.ts';
import { type VerifyBackupResult, verifyBackupLocally } from '#local/verify-backup.ts';
import { CliError, UsageError } from './errors.ts';
import { chooseRollbackTarget, toLedgerEntry } from './ledger.ts';
import {
  buildPhaseLine,
  failedLine,
  phaseLabel,
  runningLine,
  startedLine,
  succeededLine,
} from './render/live.ts';
import { renderProgress } from './render/text.ts';
import type { CliDeps } from './runtime.ts';

/** `--json`, which every local command takes. */
export interface JsonFlag {
  readonly json?: boolean;
}

/** The flags of `local release`, `rollback` and `demo`. */
export interface ReleaseFlags extends JsonFlag {
  readonly revision?: string;
  readonly source?: string;
  readonly fault?: string;
  readonly image?: string;
  readonly verbose?: boolean;
  readonly startedBy?: string;
}

function starter(env: NodeJS.ProcessEnv, flag?: string): string {
  if (flag) return flag;
  if (env.STEPDEPLOY_STARTED_BY) return env.STEPDEPLOY_STARTED_BY;
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return 'stepdeploy-local';
  }
}

function configOf(deps: CliDeps): LocalConfig {
  return loadConfig({}, deps.env);
}

/**
 * The clock of a live display on stderr, from its creation, and its heartbeat: every 15 s,
 * what `running` names is still running.
 */
function liveClock(deps: CliDeps, running: () => readonly string[]) {
  const startedAt = Date.now();
  const heartbeat = setInterval(() => {
    const line = runningLine(running(), Date.now() - startedAt);
    if (line) deps.io.err(line);
  }, 15_000);
  heartbeat.unref();
  return {
    startedAt,
    elapsedMs: () => Date.now() - startedAt,
    stop: () => clearInterval(heartbeat),
  };
}

/** Progress on stderr: steps as they start and end with their durations, adapter notes, a heartbeat. */
function progressDisplay(deps: CliDeps, verbose: boolean) {
  let latest: ExecutionProgress | undefined;
  const clock = liveClock(deps, () => latest?.currentSteps ?? []);
  return {
    stop: clock.stop,
    log: (line: string) => deps.io.err(`• ${line}`),
    hooks: {
      onStep: (
        event: Parameters<NonNullable<import('#local/release.ts').ReleaseHooks['onStep']>>[0],
        progress: ExecutionProgress,
      ) => {
        latest = progress;
        if (
          event.type !== 'StepEntered' &&
          event.type !== 'StepExited' &&
          event.type !== 'StepFailed'
        )
          return;
        const row = progress.steps.find((r) => r.step === event.step);
        if (!row) return; // routing states (Pass, Choice) are not shown
        // A polling loop enters its check many times: show the first visit only.
        if (row.visits > 1 && event.type !== 'StepFailed') return;
        if (event.type === 'StepEntered') deps.io.err(startedLine(event.step, clock.elapsedMs()));
        else if (event.type === 'StepExited' && row.status === 'succeeded')
          deps.io.err(succeededLine(event.step, row.durationMs));
        else if (event.type === 'StepFailed')
          deps.io.err(
            failedLine(
              event.step,
              `${event.error}${event.cause ? `: ${event.cause.split('\n')[0]}` : ''}`,
            ),
          );
      },
      note: (line: string) => deps.io.err(`  ${line}`),
      announce: (line: string) => deps.io.err(line),
      onServiceEvent: (event: {
        type: string;
        tasks?: readonly string[];
        task?: string;
        message?: string;
        reason?: string;
        failedTasks?: number;
      }) => {
        if (event.type === 'task-started') deps.io.err(`  service: started ${event.task}`);
        else if (event.type === 'task-replaced')
          deps.io.err(`  service: started ${event.task} to replace a failed task`);
        else if (event.type === 'task-failed')
          deps.io.err(
            `  service: task ${event.task} failed (${event.failedTasks} so far): ${event.reason}`,
          );
        else if (event.type === 'drain-started' && event.tasks?.length)
          deps.io.err(`  service: draining ${event.tasks.join(', ')}`);
        else if (event.type === 'deployment-completed')
          deps.io.err('  service: deployment completed');
        else if (event.type === 'rollout-error')
          deps.io.err(`  service: rollout error: ${event.message}`);
      },
      build: verbose ? { onLog: (line: string) => deps.io.err(`  | ${line}`) } : {},
    },
  };
}

/**
 * The phases of the images a first `up` builds, on stderr, as a release shows its steps
 * (cli/render/live.ts): each Packer step, Ansible task and Dockerfile step as it starts, with
 * the elapsed time, and its duration when it took a second or more; a heartbeat names a long
 * phase still running.
 */
function buildPhaseDisplay(deps: CliDeps) {
  let running: BuildPhaseEvent['phase'] | undefined;
  const clock = liveClock(deps, () => (running ? [phaseLabel(running)] : []));
  return {
    stop: clock.stop,
    onPhase: (event: BuildPhaseEvent) => {
      running = event.type === 'started' ? event.phase : undefined;
      const line = buildPhaseLine(event, clock.startedAt);
      if (line) deps.io.err(line);
    },
  };
}

async function bringUp(
  deps: CliDeps,
  log: (line: string) => void,
  verbose = false,
): Promise<{ stack: StackHandle; boot: BootstrapResult }> {
  const phases = buildPhaseDisplay(deps);
  try {
    const stack = await up({ ...configOf(deps), log, onBuildPhase: phases.onPhase });
    // Like `cdk deploy`: the state machines come from the synthesized app.
    await releaseDefinition(stack.config.stateDir, log);
    const boot = await bootstrapService(stack, {
      log,
      onBuildPhase: phases.onPhase,
      ...(verbose ? { onBuildLog: (line: string) => deps.io.err(`  | ${line}`) } : {}),
    });
    return { stack, boot };
  } finally {
    phases.stop();
  }
}

function releaseJson(result: LocalReleaseResult) {
  return {
    executionName: result.executionName,
    releaseId: result.releaseId ?? null,
    status: result.status,
    outcome: result.outcome,
    error: result.error ?? null,
    cause: result.cause ?? null,
    siteUrl: result.siteUrl,
    input: result.input,
    failure: result.record?.failure ?? result.progress.failure ?? null,
    steps: result.progress.steps,
    durationsMs: result.durationsMs,
    record: result.record ?? null,
    serviceEvents: result.serviceEvents,
  };
}

function releaseText(result: LocalReleaseResult): string {
  const lines = [
    renderProgress({ title: 'Local release', name: result.executionName }, result.progress),
    '',
    // The cause (the release's whole message) is in the progress header above.
    `  outcome   ${result.outcome}`,
    `  site      ${result.siteUrl}`,
  ];
  return lines.join('\n');
}

function verifyText(result: VerifyBackupResult): string {
  const seconds = (n: number | null) => (n === null ? 'n/a' : formatDuration(n * 1000));
  return [
    renderProgress(
      { title: 'Local backup verification', name: result.executionName },
      result.progress,
    ),
    '',
    `  verdict   ${result.outcome}${result.failedCheck ? ` — ${result.failedCheck}: ${result.error}: ${result.reason}` : ''}`,
    `  snapshot  ${result.snapshotId ?? 'none'}`,
    `  RTO       ${seconds(result.rtoSeconds)} (restore until the copy accepted connections)`,
    `  RPO       ${seconds(result.snapshotAgeSeconds)} (snapshot age)`,
    `  cleanup   ${result.cleanup.status}`,
  ].join('\n');
}

/** Runs one release on the local stack, printing progress on stderr and the result on stdout. */
async function release(
  deps: CliDeps,
  flags: ReleaseFlags,
  source: LocalSource,
  kind: 'release' | 'rollback',
): Promise<LocalReleaseResult> {
  const display = progressDisplay(deps, Boolean(flags.verbose));
  // The execution lives in this process: stopped, it ends where it is. Say what that leaves.
  const interrupted = (signal: NodeJS.Signals) => {
    display.log(
      `${kind} interrupted (${signal}) during the step above: nothing more runs. Its lock is free for the next release, which takes it over; the service may be left mid-rollout (\`stepdeploy local status\` shows what serves), and the next release or \`stepdeploy local rollback\` deploys over it.`,
    );
    display.stop();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const stack = await up({ ...configOf(deps), log: () => {} });
    const service = await serviceTable(stack.config.stateDir).get({
      serviceName: stack.config.service,
    });
    if (!service)
      throw new CliError(`The local service ${stack.config.service} does not exist yet.`, {
        hint: 'Run `stepdeploy local up` first.',
      });
    const definition = await releaseDefinition(stack.config.stateDir, display.log);
    display.log(
      `${kind} of ${source.kind === 'image' ? source.imageUri : `revision ${source.label}${source.kind === 'revision' && source.fault ? ` (fault ${source.fault})` : ''}`}`,
    );
    const result = await runLocalRelease(
      stack,
      definition,
      { source, startedBy: starter(deps.env, flags.startedBy), kind },
      display.hooks,
    );
    if (result.outcome !== 'SUCCEEDED') deps.exitCode = 1;
    deps.io.out(flags.json ? JSON.stringify(releaseJson(result), null, 2) : releaseText(result));
    return result;
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    display.stop();
  }
}

function sourceFromFlags(flags: ReleaseFlags, now: Date): LocalSource {
  if (
    flags.image !== undefined &&
    (flags.revision !== undefined || flags.fault !== undefined || flags.source !== undefined)
  )
    throw new UsageError(
      '--image redeploys an existing image; it takes no --source, --revision or --fault.',
    );
  if (flags.fault !== undefined && !isImageFault(flags.fault))
    throw new UsageError(
      `--fault must be one of ${Object.keys(IMAGE_FAULTS).join(', ')} (healthz: /healthz answers 500; home: the home page answers 500 while /healthz is 200; crash: the container exits at start), got ${flags.fault}.`,
    );
  if (flags.image !== undefined) {
    if (!/@sha256:[a-f0-9]{64}$/.test(flags.image))
      throw new UsageError(
        '--image must be pinned by digest: <registry>/<repository>@sha256:<64 hex>.',
      );
    return { kind: 'image', imageUri: flags.image };
  }
  const label = flags.revision ?? `r${now.toISOString().replace(/\D/g, '').slice(0, 14)}`;
  try {
    checkLabel(label);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return {
    kind: 'revision',
    label,
    ...(flags.fault !== undefined && isImageFault(flags.fault) ? { fault: flags.fault } : {}),
    ...(flags.source !== undefined ? { sourceDir: flags.source } : {}),
  };
}

/** `local up`: the stack and the service, idempotent. */
export async function upCommand(
  deps: CliDeps,
  flags: JsonFlag & { verbose?: boolean },
): Promise<void> {
  const { stack, boot } = await bringUp(
    deps,
    (line) => deps.io.err(`• ${line}`),
    Boolean(flags.verbose),
  );
  const already = stack.outcome === 'already-up' && boot.outcome === 'already-up';
  const value = {
    outcome: already ? 'already-up' : 'up',
    siteUrl: boot.siteUrl,
    taskDefinitionArn: boot.taskDefinitionArn,
    install: boot.install,
    adminUser: 'admin',
    adminPasswordFile: boot.adminPasswordFile,
    stateDir: stack.config.stateDir,
  };
  deps.io.out(
    flags.json
      ? JSON.stringify(value, null, 2)
      : [
          already ? `Local stack already up: ${boot.siteUrl}` : `Local stack up: ${boot.siteUrl}`,
          `  service revision  ${boot.taskDefinitionArn.split('/').pop()}`,
          `  admin             user admin, password in ${boot.adminPasswordFile} (mode 600)`,
          `  WordPress         ${boot.install === 'installed' ? 'installed' : `${boot.install}: the first release installs it (InstallWordPress)`}`,
          `  state             ${stack.config.stateDir}`,
        ].join('\n'),
  );
}

/** `local release`: one release through the release state machine. */
export async function releaseCommand(deps: CliDeps, flags: ReleaseFlags): Promise<void> {
  await release(deps, flags, sourceFromFlags(flags, deps.now()), 'release');
}

/** `local rollback`: the last known-good (or the named) release's image, released again. */
export async function rollbackCommand(
  deps: CliDeps,
  flags: ReleaseFlags & { to?: string },
): Promise<void> {
  const config = configOf(deps);
  const entries = (await ledgerTable(config.stateDir).query(config.service)).map(toLedgerEntry);
  const target = chooseRollbackTarget(entries, flags.to);
  deps.io.err(`• rolling back to ${target.imageUri} (${target.why})`);
  await release(deps, flags, { kind: 'image', imageUri: target.imageUri }, 'rollback');
}

/** `local verify-backup`: the verify-restore state machine on a scratch MariaDB. */
export async function verifyBackupCommand(
  deps: CliDeps,
  flags: JsonFlag & { snapshot?: string },
): Promise<void> {
  const display = progressDisplay(deps, false);
  try {
    const stack = await up({ ...configOf(deps), log: () => {} });
    if (!(await serviceTable(stack.config.stateDir).get({ serviceName: stack.config.service })))
      throw new CliError(`The local service ${stack.config.service} does not exist yet.`, {
        hint: 'Run `stepdeploy local up` first.',
      });
    const result = await verifyBackupLocally({
      config: stack.config,
      live: stack.database,
      ...(flags.snapshot ? { snapshotId: flags.snapshot } : {}),
      hooks: display.hooks,
      log: display.log,
    });
    if (result.outcome !== 'PASSED') deps.exitCode = 1;
    const { progress: _progress, events: _events, ...summary } = result;
    deps.io.out(flags.json ? JSON.stringify(summary, null, 2) : verifyText(result));
  } finally {
    display.stop();
  }
}

/** `local down`: removes the stack (its data too unless --keep-data). */
export async function downCommand(
  deps: CliDeps,
  flags: JsonFlag & { keepData?: boolean },
): Promise<void> {
  const config = configOf(deps);
  const removed = await down({ ...config, keepData: Boolean(flags.keepData) });
  const value = { ...removed, keptData: Boolean(flags.keepData), stateDir: config.stateDir };
  deps.io.out(
    flags.json
      ? JSON.stringify(value, null, 2)
      : `Local stack removed: ${removed.containers} container(s), ${removed.volumes} volume(s), ${removed.networks} network(s)${flags.keepData ? `; data kept in ${config.stateDir}` : ''}.`,
  );
}

/** `local demo`: up, then a release, then the URL. */
export async function demoCommand(deps: CliDeps, flags: ReleaseFlags): Promise<void> {
  const log = (line: string) => deps.io.err(`• ${line}`);
  const { boot } = await bringUp(deps, log, Boolean(flags.verbose));
  log(`site up at ${boot.siteUrl}; releasing`);
  const result = await release(
    deps,
    flags,
    sourceFromFlags({ revision: flags.revision ?? 'demo' }, deps.now()),
    'release',
  );
  if (!flags.json) deps.io.out(`\nWordPress is serving at ${result.siteUrl}`);
}
