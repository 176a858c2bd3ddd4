import { randomBytes } from 'node:crypto';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { stepDurations } from '#commons/durations.ts';
import type { ReleaseInput } from '#commons/release.ts';
import { type ExecutionProgress, summarize } from '#execution/progress.ts';
import { fromLocalEvent, type StepEvent } from '#execution/step-events.ts';
import type { ImageFault } from './image-faults.ts';
import { type RunnerEvent, runLocal, toHistoryEvents, toJson } from './runner.ts';
import type { ServiceEvent } from './scheduler.ts';
import { DEFAULT_SITE_DIR, stageSiteSource } from './site-source.ts';
import {
  type BuildSettings,
  createContext,
  type LocalLedgerRecord,
  type StackParts,
} from './steps/context.ts';
import { releaseHandlers } from './steps/index.ts';
import { settleSnapshots } from './steps/snapshot-database.ts';

/** What a local release deploys. */
export type LocalSource =
  | {
      readonly kind: 'revision';
      readonly label: string;
      readonly fault?: ImageFault;
      /** The site's code to build (default: the repository's site/). */
      readonly sourceDir?: string;
    }
  | { readonly kind: 'image'; readonly imageUri: string };

/**
 * Release options tuned for the local stack, with the health gate's polls counted in halves of
 * a health-check interval (its pace while new tasks start, `nextPollMs`).
 *
 * What fails the gate is decided by the load balancer's own thresholds: a target the app
 * answered wrongly is `unhealthy` after `fall` wrong answers in a row and fails the gate on the
 * poll that sees it; a task that stops counts toward the failed-task threshold and is replaced.
 * Only targets that are unhealthy for a reason that may be load (timed-out checks, refused
 * connections) are given time: `maxUnhealthyPolls` polls in a row, i.e. three check intervals,
 * on top of the `fall` checks the load balancer already needed. A busy task recovers well
 * within that; a hung one does not.
 */
export const LOCAL_RELEASE_OPTIONS = {
  skipRestoreTest: true,
  healthTimeoutSeconds: 300,
  // The AWS default (whole seconds, as Step Functions counts them). The health gate takes it as
  // its longest wait, scaled by the time factor like every timing (7.5 s at 0.5: longer than
  // any wait the gate picks); the other Wait states last localPollMs() unless a caller sets
  // this explicitly.
  pollIntervalSeconds: 15,
  maxUnhealthyPolls: 6,
  requiredHealthyPolls: 2,
  smokeAttempts: 5,
} as const;

/**
 * How long every Wait state lasts locally: an explicit poll interval in the options, else half
 * a health-check interval of the load balancer, so the gate sees each verdict within half an
 * interval of it (a Wait on Step Functions counts whole seconds; aws-local-stepfunctions lets
 * the runner set any duration). Pure.
 */
export function localPollMs(
  options: Partial<typeof LOCAL_RELEASE_OPTIONS>,
  healthCheckIntervalMs: number,
): number {
  return options.pollIntervalSeconds !== undefined
    ? options.pollIntervalSeconds * 1000
    : Math.max(100, Math.round(healthCheckIntervalMs / 2));
}

const LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;

/** A source revision label must be short and safe in file names, tags and Packer variables. Pure. */
export function checkLabel(label: string): string {
  if (!LABEL.test(label))
    throw new Error(
      `revision label must be 1-40 of letters, digits, . _ - (starting with a letter or digit), got ${JSON.stringify(label)}`,
    );
  return label;
}

/**
 * The release input for a local source. A site source travels as the S3-style source: the
 * object key names it by its label, the version is its content hash (the source staged under
 * that hash, local/site-source.ts), so ValidateInput hands the hash to BuildImage as the source
 * version exactly as an S3 object version travels on AWS, and the ledger records it. Pure.
 */
export function localReleaseInput(
  source: LocalSource,
  startedBy: string,
  options: Partial<typeof LOCAL_RELEASE_OPTIONS> = {},
  sourceHash?: string,
): ReleaseInput {
  if (source.kind === 'revision' && !sourceHash)
    throw new Error('a local release of a site source needs the hash it was staged under');
  return {
    source:
      source.kind === 'image'
        ? { type: 'image', imageUri: source.imageUri }
        : {
            type: 's3',
            key: `local/${checkLabel(source.label)}.zip`,
            versionId: sourceHash as string,
          },
    trigger: 'manual',
    startedBy: startedBy.slice(0, 128),
    options: { ...LOCAL_RELEASE_OPTIONS, ...options },
  };
}

/**
 * A unique execution name; ValidateInput derives the release id (and the snapshot id) from it,
 * so it stays short and unique even for two releases started in the same second. Pure.
 */
export function localExecutionName(
  kind: 'release' | 'rollback',
  what: string,
  now: Date,
  random = randomBytes(2).toString('hex'),
): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace('.', '')
    .replace(/Z$/, 'z')
    .toLowerCase();
  const tail = what
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 12);
  return `${kind === 'rollback' ? 'rollback' : 'local'}-${stamp}-${random}${tail ? `-${tail}` : ''}`;
}

/** Hooks for watching a local release as it runs. */
export interface ReleaseHooks {
  /** Every step event as it happens, with the progress folded so far. */
  readonly onStep?: (event: StepEvent, progress: ExecutionProgress) => void;
  /** One-line notes from the step adapters (health verdicts, pushed image, ...). */
  readonly note?: (line: string) => void;
  /** The Notify step's announcement. */
  readonly announce?: (line: string) => void;
  readonly onServiceEvent?: (event: ServiceEvent) => void;
  readonly build?: BuildSettings;
}

/** What `local release` reports. */
export interface LocalReleaseResult {
  readonly executionName: string;
  readonly releaseId?: string;
  /** Execution status as Step Functions names it. */
  readonly status: 'SUCCEEDED' | 'FAILED';
  /** SUCCEEDED, FAILED, ROLLED_BACK, DIRTY (FailureDirty), REFUSED or REJECTED. */
  readonly outcome: string;
  readonly error?: string;
  readonly cause?: string;
  readonly siteUrl: string;
  readonly input: ReleaseInput;
  readonly progress: ExecutionProgress;
  /** Milliseconds per state, summed over visits. */
  readonly durationsMs: Record<string, number>;
  readonly serviceEvents: readonly ServiceEvent[];
  readonly record?: LocalLedgerRecord;
  readonly events: readonly RunnerEvent[];
}

/**
 * Runs the release state machine from the synthesized template on the local stack: each Task
 * state bound to its adapter in local/steps, Wait states as long as the poll interval.
 */
export async function runLocalRelease(
  stack: StackParts,
  definition: StateMachineDefinition,
  request: {
    readonly source: LocalSource;
    readonly startedBy: string;
    readonly kind?: 'release' | 'rollback';
    readonly options?: Partial<typeof LOCAL_RELEASE_OPTIONS>;
  },
  hooks: ReleaseHooks = {},
): Promise<LocalReleaseResult> {
  const staged =
    request.source.kind === 'revision'
      ? await stageSiteSource(stack.config.stateDir, request.source.sourceDir ?? DEFAULT_SITE_DIR)
      : undefined;
  if (staged) hooks.note?.(`source: ${staged.files.length} file(s), ${staged.hash}`);
  const input = localReleaseInput(request.source, request.startedBy, request.options, staged?.hash);
  // The execution name carries the instant the run starts (`$$.Execution.StartTime`), which
  // orders the releases waiting for the lock (newest wins).
  let executionName = '';
  const nameExecution = (startTime: Date) => {
    executionName = localExecutionName(
      request.kind ?? 'release',
      request.source.kind === 'image' ? 'image' : request.source.label,
      startTime,
    );
    return executionName;
  };
  const events: RunnerEvent[] = [];
  const stepEvents: StepEvent[] = [];
  const serviceEvents: ServiceEvent[] = [];
  const ctx = createContext(stack, {
    events,
    build: {
      ...hooks.build,
      ...(request.source.kind === 'revision' && request.source.fault
        ? { fault: request.source.fault }
        : {}),
    },
    note: hooks.note,
    announce: hooks.announce,
    onServiceEvent: (e) => {
      serviceEvents.push(e);
      hooks.onServiceEvent?.(e);
    },
  });
  let releaseId: string | undefined;
  const pollMs = localPollMs(request.options ?? {}, stack.loadBalancer.healthCheck.intervalMs);
  let execution: Awaited<ReturnType<typeof runLocal>>;
  try {
    execution = await runLocal(definition, toJson(input), {
      handlers: releaseHandlers(ctx),
      executionName: nameExecution,
      // The health gate's waits are the ones its last verdict decided (ctx.waits); the first,
      // and every other Wait state, lasts pollMs.
      waitMs: (state) => ctx.waits.get(state) ?? pollMs,
      retryMs: 1000,
      onEvent: (event) => {
        events.push(event);
        const exited = event as {
          type?: string;
          state?: { name?: string; output?: { release?: { releaseId?: string } } };
        };
        if (exited.type === 'StateExited' && exited.state?.name === 'ValidateInput')
          releaseId = exited.state.output?.release?.releaseId;
        const step = fromLocalEvent(event as never);
        if (!step) return;
        stepEvents.push(step);
        hooks.onStep?.(step, summarize(stepEvents, Date.now()));
      },
    });
  } finally {
    // Every execution ends with its deployments settled (completed, or given up by the gate):
    // nothing of this process keeps rolling out once it exits.
    ctx.service.stop();
    await ctx.service.idle();
    await settleSnapshots();
  }
  const record = releaseId
    ? await ctx.ledger.get({ service: stack.config.service, releaseId })
    : undefined;
  const outcome =
    execution.status === 'SUCCEEDED'
      ? 'SUCCEEDED'
      : execution.error === 'FailureDirty'
        ? 'DIRTY'
        : (execution.error ?? 'FAILED');
  return {
    executionName,
    ...(releaseId ? { releaseId } : {}),
    status: execution.status,
    outcome,
    ...(execution.error ? { error: execution.error } : {}),
    ...(execution.cause ? { cause: execution.cause } : {}),
    siteUrl: stack.loadBalancer.url,
    input,
    progress: summarize(stepEvents, Date.now()),
    durationsMs: stepDurations(toHistoryEvents(events)),
    serviceEvents,
    ...(record ? { record } : {}),
    events,
  };
}
