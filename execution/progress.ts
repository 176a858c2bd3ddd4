import type { StepEvent } from './step-events.ts';

/** Where one step stands. `failed` includes failures a Catch routed elsewhere. */
export type StepStatus = 'running' | 'succeeded' | 'failed' | 'interrupted';

/** Execution status, named as Step Functions names it. */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/**
 * What a release came to. `rolled-back` is a failure (the new revision never went live
 * for good) and `failure-dirty` means the rollback itself failed and a person must act.
 */
export type Outcome =
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'rolled-back'
  | 'failure-dirty'
  | 'timed-out'
  | 'aborted';

/** One row of the step table: every visit of a state name folded together. */
export interface StepRow {
  readonly step: string;
  readonly stateType: string;
  readonly status: StepStatus;
  readonly startedAt: number;
  readonly endedAt?: number;
  readonly durationMs: number;
  /** How many times the state was entered (a health-poll loop enters its check many times). */
  readonly visits: number;
  /** Retries fired by a Retry clause. */
  readonly retries: number;
  readonly error?: string;
  readonly cause?: string;
}

/** The whole picture of one execution, as `status` shows it (text or --json). */
export interface ExecutionProgress {
  readonly status: ExecutionStatus;
  readonly outcome: Outcome;
  readonly startedAt?: number;
  readonly stoppedAt?: number;
  readonly durationMs?: number;
  /** Steps running right now (several inside a Parallel state). */
  readonly currentSteps: readonly string[];
  readonly steps: readonly StepRow[];
  /** The first step whose failure stuck: the reason a person acts on. */
  readonly failure?: { readonly step: string; readonly error: string; readonly cause?: string };
  /** Error and cause of the execution itself (the Fail state's values). */
  readonly error?: string;
  readonly cause?: string;
}

/** Routing-only state types left out of the step table. */
const HIDDEN_TYPES = new Set(['Pass', 'Choice', 'Succeed']);

/** Names of the release machine's terminal states, shared with the ASL (docs/release.md). */
export const DIRTY_MARKERS = ['FailureDirty'] as const;

interface MutableRow {
  step: string;
  stateType: string;
  status: StepStatus;
  startedAt: number;
  endedAt?: number;
  visits: number;
  retries: number;
  error?: string;
  cause?: string;
  openFailed: boolean;
  failedAt?: number;
}

function outcomeOf(status: ExecutionStatus, rows: readonly MutableRow[], error?: string): Outcome {
  switch (status) {
    case 'RUNNING':
      return 'running';
    case 'SUCCEEDED':
      return 'succeeded';
    case 'TIMED_OUT':
      return 'timed-out';
    case 'ABORTED':
      return 'aborted';
    case 'FAILED': {
      const names = [error ?? '', ...rows.map((row) => row.step)];
      if (names.some((name) => DIRTY_MARKERS.some((marker) => name.includes(marker)))) {
        return 'failure-dirty';
      }
      const rolledBack =
        /rolled[ _-]?back/i.test(error ?? '') ||
        rows.some((row) => /rollback/i.test(row.step) && row.status === 'succeeded');
      return rolledBack ? 'rolled-back' : 'failed';
    }
  }
}

/**
 * Folds StepEvents (oldest first) into the progress of one execution. Pure: `now` is only
 * used for the running duration of steps that have not finished.
 */
export function summarize(events: readonly StepEvent[], now: number): ExecutionProgress {
  const rows = new Map<string, MutableRow>();
  let status: ExecutionStatus = 'RUNNING';
  let startedAt: number | undefined;
  let stoppedAt: number | undefined;
  let error: string | undefined;
  let cause: string | undefined;

  for (const event of events) {
    switch (event.type) {
      case 'ExecutionStarted':
        startedAt = event.at;
        break;
      case 'ExecutionSucceeded':
        status = 'SUCCEEDED';
        stoppedAt = event.at;
        break;
      case 'ExecutionFailed':
      case 'ExecutionAborted':
      case 'ExecutionTimedOut':
        status =
          event.type === 'ExecutionFailed'
            ? 'FAILED'
            : event.type === 'ExecutionAborted'
              ? 'ABORTED'
              : 'TIMED_OUT';
        stoppedAt = event.at;
        error = event.error;
        cause = event.cause;
        break;
      case 'StepEntered': {
        const row = rows.get(event.step) ?? {
          step: event.step,
          stateType: event.stateType,
          status: 'running',
          startedAt: event.at,
          visits: 0,
          retries: 0,
          openFailed: false,
        };
        row.visits += 1;
        row.status = 'running';
        row.openFailed = false;
        rows.set(event.step, row);
        break;
      }
      case 'StepFailed': {
        const row = rows.get(event.step);
        if (!row) break;
        row.status = 'failed';
        row.openFailed = true;
        row.error = event.error;
        row.cause = event.cause;
        row.failedAt = event.at;
        row.endedAt = event.at;
        break;
      }
      case 'StepRetried': {
        const row = rows.get(event.step);
        if (!row) break;
        row.retries += 1;
        row.status = 'running';
        row.openFailed = false;
        break;
      }
      case 'StepExited': {
        const row = rows.get(event.step);
        if (!row) break;
        row.status = row.openFailed ? 'failed' : 'succeeded';
        row.endedAt = event.at;
        break;
      }
    }
  }

  // A visit still open when the execution stopped never finished: say so rather than "running".
  for (const row of rows.values()) {
    if (row.status === 'running' && status !== 'RUNNING') {
      // A Fail state is never exited: the execution's failure is its result.
      if (row.stateType === 'Fail') {
        row.status = 'failed';
        row.error = error;
        row.cause = cause;
      } else {
        row.status = 'interrupted';
      }
      row.endedAt = stoppedAt;
    }
  }

  const visible = [...rows.values()].filter((row) => !HIDDEN_TYPES.has(row.stateType));
  const steps: StepRow[] = visible.map((row) => ({
    step: row.step,
    stateType: row.stateType,
    status: row.status,
    startedAt: row.startedAt,
    ...(row.endedAt === undefined ? {} : { endedAt: row.endedAt }),
    durationMs: Math.max(
      0,
      (row.status === 'running' ? now : (row.endedAt ?? now)) - row.startedAt,
    ),
    visits: row.visits,
    retries: row.retries,
    ...(row.error === undefined ? {} : { error: row.error }),
    ...(row.cause === undefined ? {} : { cause: row.cause }),
  }));

  const firstFailure = [...rows.values()]
    .filter((row) => row.status === 'failed' && row.stateType !== 'Fail')
    .sort((a, b) => (a.failedAt ?? 0) - (b.failedAt ?? 0))[0];

  const end = stoppedAt ?? now;
  return {
    status,
    outcome: outcomeOf(status, [...rows.values()], error),
    ...(startedAt === undefined ? {} : { startedAt, durationMs: Math.max(0, end - startedAt) }),
    ...(stoppedAt === undefined ? {} : { stoppedAt }),
    currentSteps: steps.filter((row) => row.status === 'running').map((row) => row.step),
    steps,
    ...(firstFailure?.error === undefined
      ? {}
      : {
          failure: {
            step: firstFailure.step,
            error: firstFailure.error,
            ...(firstFailure.cause === undefined ? {} : { cause: firstFailure.cause }),
          },
        }),
    ...(error === undefined ? {} : { error }),
    ...(cause === undefined ? {} : { cause }),
  };
}
