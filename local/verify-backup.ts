/**
 * `stepdeploy local verify-backup`: the verify-restore state machine from the synthesized
 * template, run by aws-local-stepfunctions with its Task states bound to local/verify-restore.ts,
 * streaming the same step events local release streams, summed up as a verdict with RTO and RPO.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { type ExecutionProgress, type StepRow, summarize } from '#execution/progress.ts';
import { fromLocalEvent, type StepEvent } from '#execution/step-events.ts';
import type { LocalConfig } from './config.ts';
import type { DatabaseHandle } from './database.ts';
import { type Json, type RunnerEvent, runLocal } from './runner.ts';
import { stateMachineDefinition } from './synth.ts';
import { verifyRestoreAdapters } from './verify-restore.ts';

/** The verify-restore machine's ASL from the synthesized templates, substitutions resolved. */
export function verifyRestoreDefinition(
  stateDir: string,
  log?: (line: string) => void,
): Promise<StateMachineDefinition> {
  return stateMachineDefinition(stateDir, 'verify-restore', log);
}

/** A unique execution name for a local verification (also names the scratch instance). Pure. */
export function verifyExecutionName(now: Date, random = randomBytes(3).toString('hex')): string {
  const stamp = now.toISOString().replace(/[-:.]/g, '').replace(/Z$/, 'z').toLowerCase();
  return `verify-${stamp}-${random}`;
}

/** A port the kernel reports free on 127.0.0.1 right now. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

const SNAPSHOT_ID = /^[A-Za-z][A-Za-z0-9-]{0,62}$/;

/** A snapshot id was refused before anything ran. */
export class SnapshotIdError extends Error {
  constructor(id: string) {
    super(
      `snapshot id must be a letter then up to 62 letters, digits or hyphens, got ${JSON.stringify(id)}`,
    );
    this.name = 'SnapshotIdError';
  }
}

/** What a local verification reports (also the `--json` output). */
export interface VerifyBackupSummary {
  readonly executionName: string;
  readonly outcome: 'PASSED' | 'FAILED';
  readonly snapshotId: string | null;
  /** The step that failed (PickSnapshot, RestoreScratchInstance, VerifyData, VerifyApplication, or a cleanup step). */
  readonly failedCheck: string | null;
  /** The error name, e.g. DataVerificationError, ApplicationVerificationError, NoSnapshotError. */
  readonly error: string | null;
  /** A reason a person can act on. */
  readonly reason: string | null;
  /** VerifyData's named failures, e.g. `RowCountMismatch:wp_posts expected 3 got 0`. */
  readonly failedChecks: readonly string[];
  /** Snapshot picked → restored copy accepted a connection (measured RTO). */
  readonly rtoSeconds: number | null;
  /** The snapshot's age when the run started (RPO). */
  readonly snapshotAgeSeconds: number | null;
  /** Whether the ASL's Cleanup removed the scratch copy and the app container itself. */
  readonly cleanup: { readonly status: string; readonly leftovers: readonly string[] };
  readonly steps: readonly StepRow[];
}

/** The run state as the Outcome choice saw it (every path passes it). */
interface FinalState {
  readonly snapshot?: { readonly snapshotId?: string };
  readonly failure?: { readonly step?: string; readonly Error?: string; readonly Cause?: string };
  readonly cleanup?: {
    readonly status?: string;
    readonly what?: string;
    readonly Error?: string;
    readonly Cause?: string;
  };
  readonly metrics?: { readonly rtoSeconds?: number; readonly rpoSeconds?: number };
}

/**
 * The verdict of one run from its final state, its execution result and its step table. A
 * verification passes only when the execution succeeded, nothing failed and nothing was left for
 * the safety net to remove. Pure.
 */
export function summarizeVerification(input: {
  readonly executionName: string;
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly error?: string;
  readonly cause?: string;
  readonly final?: FinalState;
  readonly progress: ExecutionProgress;
  readonly leftovers: readonly string[];
}): VerifyBackupSummary {
  const { final, progress, leftovers } = input;
  const failure = final?.failure;
  const cleanupFailed = final?.cleanup?.status === 'FAILED';
  let failedCheck: string | null = null;
  let error: string | null = null;
  let reason: string | null = null;
  if (failure) {
    failedCheck = failure.step ?? null;
    error = failure.Error ?? null;
    reason = failure.Cause ?? null;
  } else if (cleanupFailed) {
    failedCheck = final?.cleanup?.what ?? 'Cleanup';
    error = final?.cleanup?.Error ?? null;
    reason = final?.cleanup?.Cause ?? null;
  } else if (input.status !== 'SUCCEEDED') {
    failedCheck = progress.failure?.step ?? 'Execution';
    error = progress.failure?.error ?? input.error ?? null;
    reason = progress.failure?.cause ?? input.cause ?? null;
  } else if (leftovers.length > 0) {
    failedCheck = 'Cleanup';
    error = 'ScratchLeftBehind';
    reason = `removed after the run: ${leftovers.join(', ')}`;
  }
  const dataFailures =
    error === 'DataVerificationError' && reason?.startsWith('data checks failed: ')
      ? reason.slice('data checks failed: '.length).split('; ')
      : [];
  return {
    executionName: input.executionName,
    outcome: failedCheck === null && input.status === 'SUCCEEDED' ? 'PASSED' : 'FAILED',
    snapshotId: final?.snapshot?.snapshotId ?? null,
    failedCheck,
    error,
    reason,
    failedChecks: dataFailures,
    rtoSeconds: final?.metrics?.rtoSeconds ?? null,
    snapshotAgeSeconds: final?.metrics?.rpoSeconds ?? null,
    cleanup: {
      status: leftovers.length > 0 ? 'LEFT_BEHIND' : (final?.cleanup?.status ?? 'unknown'),
      leftovers,
    },
    steps: progress.steps,
  };
}

/** Hooks for watching a verification as it runs (the same shape local release's hooks have). */
export interface VerifyBackupHooks {
  /** Every step event as it happens, with the progress folded so far. */
  readonly onStep?: (event: StepEvent, progress: ExecutionProgress) => void;
  /** One-line notes from the step adapters (never secrets). */
  readonly note?: (line: string) => void;
  /** The failure notification's text, besides notifications.log. */
  readonly announce?: (line: string) => void;
}

/** Options of {@link verifyBackupLocally}. */
export interface VerifyBackupOptions {
  readonly config: LocalConfig;
  /** Snapshot to verify; the newest local snapshot when omitted. */
  readonly snapshotId?: string;
  /** The live database, compared with when a snapshot has no manifest. */
  readonly live?: DatabaseHandle;
  /** The definition to run (default: from the synthesized template, cached in the state dir). */
  readonly definition?: StateMachineDefinition;
  /** Milliseconds each Wait state pauses (application polls; default 2000). */
  readonly pollMs?: number;
  readonly hooks?: VerifyBackupHooks;
  /** Progress lines of the preparation (synth). */
  readonly log?: (line: string) => void;
}

/** The summary plus the folded progress (for the step table) and the raw events. */
export interface VerifyBackupResult extends VerifyBackupSummary {
  readonly progress: ExecutionProgress;
  readonly events: readonly RunnerEvent[];
}

/**
 * Restores a local snapshot into a scratch MariaDB container, verifies its data and boots the
 * service's current revision on it, by running the verify-restore state machine locally. The
 * scratch and app containers are removed on every path: by the machine's Cleanup, and by a
 * safety net if the run itself broke.
 */
export async function verifyBackupLocally(opts: VerifyBackupOptions): Promise<VerifyBackupResult> {
  if (opts.snapshotId !== undefined && !SNAPSHOT_ID.test(opts.snapshotId))
    throw new SnapshotIdError(opts.snapshotId);
  const { config, hooks = {} } = opts;
  const definition = opts.definition ?? (await verifyRestoreDefinition(config.stateDir, opts.log));
  const executionName = verifyExecutionName(new Date());
  const adapters = verifyRestoreAdapters({
    stateDir: config.stateDir,
    service: config.service,
    scratchPort: await freeLoopbackPort(),
    appPort: await freeLoopbackPort(),
    ...(opts.live ? { live: opts.live } : {}),
    note: hooks.note,
    notify: hooks.announce,
  });
  const stepEvents: StepEvent[] = [];
  let final: FinalState | undefined;
  let execution: Awaited<ReturnType<typeof runLocal>> | undefined;
  let leftovers: string[] = [];
  try {
    execution = await runLocal(
      definition,
      (opts.snapshotId ? { snapshotId: opts.snapshotId } : {}) as Json,
      {
        handlers: adapters.handlers,
        executionName,
        waitMs: opts.pollMs ?? 2000,
        retryMs: 1000,
        onEvent: (event) => {
          const entered = event as { type?: string; state?: { name?: string; input?: unknown } };
          if (entered.type === 'StateEntered' && entered.state?.name === 'Outcome')
            final = entered.state.input as FinalState;
          const step = fromLocalEvent(event as never);
          if (!step) return;
          stepEvents.push(step);
          hooks.onStep?.(step, summarize(stepEvents, Date.now()));
        },
      },
    );
  } finally {
    // Whatever happened above, nothing of this run outlives it.
    leftovers = await adapters.cleanup();
  }
  const progress = summarize(stepEvents, Date.now());
  return {
    ...summarizeVerification({
      executionName,
      status: execution.status,
      ...(execution.error ? { error: execution.error } : {}),
      ...(execution.cause ? { cause: execution.cause } : {}),
      final,
      progress,
      leftovers,
    }),
    progress,
    events: execution.events,
  };
}
