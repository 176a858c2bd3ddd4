import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import { type LockItem, type QueueItem, queueKey, releaseQueueView } from '#commons/lock.ts';
import { type BootstrapResult, bootstrapService } from '#local/bootstrap.ts';
import { type LocalConfig, loadConfig } from '#local/config.ts';
import { LoadBalancer } from '#local/load-balancer.ts';
import { holderGone } from '#local/lock-holder.ts';
import {
  checkLabel,
  type LocalReleaseResult,
  type LocalSource,
  releaseDefinition,
  runLocalRelease,
} from '#local/release.ts';
import { down, type StackHandle, status as stackStatus, up } from '#local/stack.ts';
import { IMAGE_FAULTS, isImageFault } from '#local/steps/build-image.ts';
import { ledgerTable, lockTable } from '#local/steps/context.ts';
import type { LocalServiceState } from '#local/steps/service.ts';
import { serviceTable } from '#local/task-definitions.ts';
import { listTasks } from '#local/tasks.ts';
import { type VerifyBackupResult, verifyBackupLocally } from '#local/verify-backup.ts';
import { CliError, UsageError } from './errors.ts';
import { chooseRollbackTarget, toLedgerEntry } from './ledger.ts';
import { renderHistory } from './render/history.ts';
import type { ExecutionProgress } from './render/progress.ts';
import { queueLines } from './render/queue.ts';
import { formatDuration, renderProgress, table } from './render/text.ts';
import { type CliDeps, reportError } from './runtime.ts';

interface JsonFlag {
  readonly json?: boolean;
}

interface ReleaseFlags extends JsonFlag {
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

/** Runs a command body, turning failures into a message (or `{"error": …}` with --json). */
async function guarded(deps: CliDeps, flags: JsonFlag, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    reportError(
      deps,
      flags,
      error instanceof CliError
        ? error
        : new CliError(error instanceof Error ? error.message : String(error), { cause: error }),
    );
  }
}

/** Progress on stderr: steps as they start and end with their durations, adapter notes, a heartbeat. */
function progressDisplay(deps: CliDeps, verbose: boolean) {
  const started = Date.now();
  let latest: ExecutionProgress | undefined;
  const elapsed = () => formatDuration(Date.now() - started);
  const heartbeat = setInterval(() => {
    const current = latest?.currentSteps ?? [];
    if (current.length > 0) deps.io.err(`  … ${current.join(', ')} running (elapsed ${elapsed()})`);
  }, 15_000);
  heartbeat.unref();
  return {
    stop: () => clearInterval(heartbeat),
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
        if (event.type === 'StepEntered') deps.io.err(`▶ ${event.step} (elapsed ${elapsed()})`);
        else if (event.type === 'StepExited' && row.status === 'succeeded')
          deps.io.err(`✓ ${event.step} ${formatDuration(row.durationMs)}`);
        else if (event.type === 'StepFailed')
          deps.io.err(
            `✗ ${event.step} ${event.error}${event.cause ? `: ${event.cause.split('\n')[0]}` : ''}`,
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

async function bringUp(
  deps: CliDeps,
  log: (line: string) => void,
  verbose = false,
): Promise<{ stack: StackHandle; boot: BootstrapResult }> {
  const stack = await up({ ...configOf(deps), log });
  // Like `cdk deploy`: the state machines come from the synthesized app.
  await releaseDefinition(stack.config.stateDir, log);
  const boot = await bootstrapService(stack, {
    log,
    ...(verbose ? { onBuildLog: (line: string) => deps.io.err(`  | ${line}`) } : {}),
  });
  return { stack, boot };
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

async function localStatus(deps: CliDeps) {
  const config = configOf(deps);
  const stack = await stackStatus(config);
  const service =
    (await ledgerTable(config.stateDir)
      .query(config.service, {})
      .catch(() => [])) ?? [];
  const record = (await serviceTable(config.stateDir).get({ serviceName: config.service })) as
    | LocalServiceState
    | undefined;
  const tasks = await listTasks({ stateDir: config.stateDir, service: config.service });
  const lbRunning = stack.containers.some(
    (c) => c.role === 'load-balancer' && c.service === config.service && c.state === 'running',
  );
  const targets = lbRunning
    ? await new LoadBalancer({
        service: config.service,
        stateDir: config.stateDir,
        port: config.sitePort,
      })
        .describeTargetHealth()
        .catch(() => [])
    : [];
  const health = new Map(targets.map((t) => [t.Target?.Port, t.TargetHealth]));
  const locks = lockTable(config.stateDir);
  const lock = await locks.get({ service: config.service }).catch(() => undefined);
  const queue = await locks.get({ service: queueKey(config.service) }).catch(() => undefined);
  const interrupted = lock !== undefined && holderGone(lock);
  const releases = service
    .map(toLedgerEntry)
    .sort((a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? ''))
    .slice(0, 5);
  return {
    up: lbRunning,
    siteUrl: `http://127.0.0.1:${config.sitePort}`,
    stateDir: config.stateDir,
    service: record
      ? {
          name: record.serviceName,
          taskDefinition: record.taskDefinition,
          revision: record.taskDefinition.split(':').pop(),
          desiredCount: record.desiredCount,
          deployments: record.deployments ?? [],
        }
      : null,
    tasks: tasks.map((t) => ({
      name: t.name,
      revision: t.revision,
      lastStatus: t.lastStatus,
      port: t.port,
      targetHealth: health.get(t.port)?.State ?? 'unregistered',
      reason: health.get(t.port)?.Reason ?? t.stoppedReason ?? null,
    })),
    containers: stack.containers.filter((c) => c.service === config.service),
    // A lock whose stepdeploy process is gone holds nothing: the next release takes it over.
    lock: releaseQueueView(
      interrupted ? undefined : (lock as LockItem | undefined),
      queue as unknown as QueueItem | undefined,
      deps.now(),
    ),
    interrupted: interrupted
      ? { releaseId: String(lock?.holder), pid: Number(lock?.holderPid) }
      : null,
    releases,
  };
}

/** Adds `stepdeploy local …`: the same release machine on Docker, HAProxy, MariaDB and Packer. */
export function registerLocalCommands(program: Command, deps: CliDeps): void {
  const local = program
    .command('local')
    .summary('run the release pipeline on this machine (Docker, HAProxy, MariaDB, Packer)')
    .description(
      'Local mode: the release state machine from the synthesized template, run by ' +
        'aws-local-stepfunctions with each step bound to a real local part, all on 127.0.0.1. ' +
        'State lives in $STEPDEPLOY_HOME (default <project>/.stepdeploy). See docs/local.md.',
    );

  local
    .command('up')
    .summary('start the local stack and the WordPress service (idempotent; like cdk deploy)')
    .option('--verbose', 'stream the bootstrap image build output')
    .option('--json', 'print machine-readable JSON on stdout')
    .action(async (flags: JsonFlag & { verbose?: boolean }) => {
      await guarded(deps, flags, async () => {
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
                already
                  ? `Local stack already up: ${boot.siteUrl}`
                  : `Local stack up: ${boot.siteUrl}`,
                `  service revision  ${boot.taskDefinitionArn.split('/').pop()}`,
                `  admin             user admin, password in ${boot.adminPasswordFile} (mode 600)`,
                `  WordPress         ${boot.install === 'installed' ? 'installed' : `${boot.install}: the first release installs it (InstallWordPress)`}`,
                `  state             ${stack.config.stateDir}`,
              ].join('\n'),
        );
      });
    });

  local
    .command('release')
    .summary('release a source revision (or an existing image) through the release state machine')
    .option(
      '--source <dir>',
      "the site's code to build: themes/, plugins/, mu-plugins/, site.yml (default: the repository's site/)",
    )
    .option('--revision <label>', 'a label for this release (default: r<UTC time>)')
    .option(
      '--fault <kind>',
      'build a deliberately bad image: healthz (its /healthz answers 500), home (the home page answers 500), crash (exits at start)',
    )
    .option('--image <uri>', 'redeploy an existing image, pinned by digest (uri@sha256:…)')
    .option('--started-by <who>', 'who is releasing (default: user@host)')
    .option('--verbose', 'stream the Packer/Ansible build output')
    .option('--json', 'print the result as JSON on stdout (progress stays on stderr)')
    .addHelpText(
      'after',
      '\nThe source is built as CodeBuild would get it and recorded by its content hash; a source\nbuilt before is not rebuilt.\n\nExamples:\n  $ stepdeploy local release\n  $ stepdeploy local release --source ../my-site --revision v2\n  $ stepdeploy local release --revision v3 --fault healthz --json',
    )
    .action(async (flags: ReleaseFlags) => {
      await guarded(deps, flags, async () => {
        await release(deps, flags, sourceFromFlags(flags, deps.now()), 'release');
      });
    });

  local
    .command('rollback')
    .summary('release the last known-good image again, through the release state machine')
    .option('--to <release>', 'release id from `stepdeploy local status` to release again')
    .option('--started-by <who>', 'who is rolling back (default: user@host)')
    .option('--verbose', 'stream build output (none: rollbacks reuse the image)')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (flags: ReleaseFlags & { to?: string }) => {
      await guarded(deps, flags, async () => {
        const config = configOf(deps);
        const entries = (await ledgerTable(config.stateDir).query(config.service)).map(
          toLedgerEntry,
        );
        const target = chooseRollbackTarget(entries, flags.to);
        deps.io.err(`• rolling back to ${target.imageUri} (${target.why})`);
        await release(deps, flags, { kind: 'image', imageUri: target.imageUri }, 'rollback');
      });
    });

  local
    .command('verify-backup')
    .summary(
      'restore a local snapshot into a scratch MariaDB, verify its data, boot WordPress on it',
    )
    .description(
      'Runs the verify-restore state machine locally: restores the snapshot (default: the newest) ' +
        'into a scratch MariaDB container, runs VerifyData against its manifest, boots the ' +
        "service's current revision on it at 127.0.0.1, removes both containers on every path " +
        'and reports RTO and RPO. Exit code 1 names the failed check.',
    )
    .option('--snapshot <id>', 'snapshot to verify (default: the newest local snapshot)')
    .option('--json', 'print the result as JSON on stdout (progress stays on stderr)')
    .action(async (flags: JsonFlag & { snapshot?: string }) => {
      await guarded(deps, flags, async () => {
        const display = progressDisplay(deps, false);
        try {
          const stack = await up({ ...configOf(deps), log: () => {} });
          if (
            !(await serviceTable(stack.config.stateDir).get({ serviceName: stack.config.service }))
          )
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
      });
    });

  local
    .command('status')
    .summary('show the service revision, its tasks and their target health, the last releases')
    .option('--json', 'print machine-readable JSON on stdout')
    .action(async (flags: JsonFlag) => {
      await guarded(deps, flags, async () => {
        const s = await localStatus(deps);
        if (flags.json) {
          deps.io.out(JSON.stringify(s, null, 2));
          return;
        }
        const lines = [
          s.up
            ? `Local stack up: ${s.siteUrl}`
            : `Local stack is not running (state: ${s.stateDir})`,
          `  service   ${s.service ? `${s.service.name} on revision ${s.service.revision} (${s.service.desiredCount} desired)` : 'not created (run `stepdeploy local up`)'}`,
          ...queueLines(s.lock),
          ...(s.interrupted
            ? [
                `  interrupted ${s.interrupted.releaseId}: its stepdeploy process (pid ${s.interrupted.pid}) is gone; the next release takes over its lock and deploys over what it left`,
              ]
            : []),
          '',
          s.tasks.length === 0
            ? '  no tasks'
            : table(
                ['TASK', 'REVISION', 'STATUS', 'PORT', 'TARGET'],
                s.tasks.map((t) => [
                  t.name,
                  String(t.revision),
                  t.lastStatus,
                  String(t.port),
                  `${t.targetHealth}${t.reason ? ` (${t.reason})` : ''}`,
                ]),
              ),
          '',
          renderHistory(s.releases),
        ];
        deps.io.out(lines.join('\n'));
      });
    });

  local
    .command('down')
    .summary('remove every container, volume and network of the local stack, and its state')
    .option('--keep-data', 'keep the state dir and the data volumes (database, uploads, registry)')
    .option('--json', 'print machine-readable JSON on stdout')
    .action(async (flags: JsonFlag & { keepData?: boolean }) => {
      await guarded(deps, flags, async () => {
        const config = configOf(deps);
        const removed = await down({ ...config, keepData: Boolean(flags.keepData) });
        const value = { ...removed, keptData: Boolean(flags.keepData), stateDir: config.stateDir };
        deps.io.out(
          flags.json
            ? JSON.stringify(value, null, 2)
            : `Local stack removed: ${removed.containers} container(s), ${removed.volumes} volume(s), ${removed.networks} network(s)${flags.keepData ? `; data kept in ${config.stateDir}` : ''}.`,
        );
      });
    });

  local
    .command('demo')
    .summary('one line from nothing to a released site: up, release, print the URL and the steps')
    .option('--revision <label>', 'source revision label (default: demo)')
    .option('--verbose', 'stream the build output')
    .option('--json', 'print the release result as JSON on stdout')
    .action(async (flags: ReleaseFlags) => {
      await guarded(deps, flags, async () => {
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
      });
    });
}
