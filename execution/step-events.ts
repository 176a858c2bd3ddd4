import type { HistoryEvent } from '@aws-sdk/client-sfn';

/**
 * The neutral event model every progress display is built from. AWS Step Functions
 * histories (GetExecutionHistory) and aws-local-stepfunctions event logs are both converted
 * to it, so `status`/`history` rendering is written once and shared by AWS and local mode.
 * Timestamps are epoch milliseconds so the JSON form is stable.
 */
export type StepEvent =
  | { readonly type: 'ExecutionStarted'; readonly at: number; readonly input?: unknown }
  | { readonly type: 'ExecutionSucceeded'; readonly at: number; readonly output?: unknown }
  | {
      readonly type: 'ExecutionFailed' | 'ExecutionAborted' | 'ExecutionTimedOut';
      readonly at: number;
      readonly error?: string;
      readonly cause?: string;
    }
  | {
      readonly type: 'StepEntered';
      readonly at: number;
      readonly step: string;
      readonly stateType: string;
    }
  | { readonly type: 'StepExited'; readonly at: number; readonly step: string }
  | {
      readonly type: 'StepFailed';
      readonly at: number;
      readonly step: string;
      readonly error: string;
      readonly cause?: string;
    }
  | { readonly type: 'StepRetried'; readonly at: number; readonly step: string };

/** Event types (suffixes) that report a failed attempt of the state they belong to. */
const FAILURE_TYPES = new Set([
  'TaskFailed',
  'TaskTimedOut',
  'TaskStartFailed',
  'TaskSubmitFailed',
  'LambdaFunctionFailed',
  'LambdaFunctionTimedOut',
  'LambdaFunctionStartFailed',
  'LambdaFunctionScheduleFailed',
  'ActivityFailed',
  'ActivityTimedOut',
  'ActivityScheduleFailed',
  'ParallelStateFailed',
  'MapStateFailed',
]);

/** Event types that begin an attempt; a second one inside a visit means a Retry fired. */
const ATTEMPT_TYPES = new Set(['TaskScheduled', 'LambdaFunctionScheduled', 'ActivityScheduled']);

/** The `*EventDetails` member of a history event carrying error and cause, whatever its name. */
function failureDetails(event: HistoryEvent): { error?: string; cause?: string } {
  for (const [key, value] of Object.entries(event)) {
    if (key.endsWith('EventDetails') && value && typeof value === 'object' && 'error' in value) {
      const details = value as { error?: string; cause?: string };
      return { error: details.error, cause: details.cause };
    }
  }
  return {};
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function epoch(timestamp: Date | string | undefined): number {
  if (timestamp === undefined) return 0;
  return new Date(timestamp).getTime();
}

/**
 * Converts AWS Step Functions history events (oldest first, as GetExecutionHistory returns
 * them by default) to StepEvents. Task-level events are attributed to their state by walking
 * the `previousEventId` chain back to the nearest `*StateEntered` event, which stays correct
 * when Parallel branches interleave.
 */
export function fromSfnHistory(events: readonly HistoryEvent[]): StepEvent[] {
  const byId = new Map<number, HistoryEvent>();
  for (const event of events) if (event.id !== undefined) byId.set(event.id, event);
  const failedVisits = new Set<number>();

  // The id of the *StateEntered event that owns `event`; undefined at execution level.
  const ownerOf = (event: HistoryEvent): number | undefined => {
    let current = byId.get(event.previousEventId ?? 0);
    while (current) {
      if (current.type?.endsWith('StateEntered')) return current.id;
      current = byId.get(current.previousEventId ?? 0);
    }
    return undefined;
  };

  const out: StepEvent[] = [];
  for (const event of events) {
    const type = event.type ?? '';
    const at = epoch(event.timestamp);
    if (type === 'ExecutionStarted') {
      out.push({ type, at, input: parseJson(event.executionStartedEventDetails?.input) });
    } else if (type === 'ExecutionSucceeded') {
      out.push({ type, at, output: parseJson(event.executionSucceededEventDetails?.output) });
    } else if (type === 'ExecutionFailed' || type === 'ExecutionAborted') {
      out.push({ type, at, ...failureDetails(event) });
    } else if (type === 'ExecutionTimedOut') {
      out.push({ type, at, ...failureDetails(event) });
    } else if (type.endsWith('StateEntered')) {
      out.push({
        type: 'StepEntered',
        at,
        step: event.stateEnteredEventDetails?.name ?? '?',
        stateType: type.slice(0, -'StateEntered'.length),
      });
    } else if (type.endsWith('StateExited')) {
      out.push({ type: 'StepExited', at, step: event.stateExitedEventDetails?.name ?? '?' });
    } else if (FAILURE_TYPES.has(type) || ATTEMPT_TYPES.has(type)) {
      const owner = ownerOf(event);
      const entered = owner === undefined ? undefined : byId.get(owner);
      const step = entered?.stateEnteredEventDetails?.name;
      if (step === undefined || owner === undefined) continue;
      if (FAILURE_TYPES.has(type)) {
        const { error, cause } = failureDetails(event);
        out.push({ type: 'StepFailed', at, step, error: error ?? type, cause });
        failedVisits.add(owner);
      } else if (failedVisits.has(owner)) {
        failedVisits.delete(owner);
        out.push({ type: 'StepRetried', at, step });
      }
    }
  }
  return out;
}

/** The aws-local-stepfunctions event fields the converter reads (structural, no import). */
export interface LocalEventLike {
  readonly type: string;
  readonly timestamp: number;
  readonly state?: { readonly name: string; readonly type: string };
  readonly input?: unknown;
  readonly output?: unknown;
  readonly Error?: string;
  readonly Cause?: unknown;
}

function causeText(cause: unknown): string | undefined {
  if (cause === undefined || cause === null) return undefined;
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return cause.message;
  return JSON.stringify(cause);
}

/**
 * Converts one aws-local-stepfunctions event (from `execution.eventLogs`) to a StepEvent,
 * or undefined for events the progress display does not use (branch/iteration markers).
 */
export function fromLocalEvent(event: LocalEventLike): StepEvent | undefined {
  const at = event.timestamp;
  const step = event.state?.name;
  switch (event.type) {
    case 'ExecutionStarted':
      return { type: 'ExecutionStarted', at, input: event.input };
    case 'ExecutionSucceeded':
      return { type: 'ExecutionSucceeded', at, output: event.output };
    case 'ExecutionFailed':
      return { type: 'ExecutionFailed', at, error: event.Error, cause: causeText(event.Cause) };
    case 'ExecutionAborted':
      return { type: 'ExecutionAborted', at };
    case 'ExecutionTimeout':
      return { type: 'ExecutionTimedOut', at, error: 'States.Timeout' };
    case 'StateEntered':
      return step === undefined
        ? undefined
        : { type: 'StepEntered', at, step, stateType: event.state?.type ?? 'Task' };
    case 'StateExited':
      return step === undefined ? undefined : { type: 'StepExited', at, step };
    case 'StateFailed':
      return step === undefined
        ? undefined
        : {
            type: 'StepFailed',
            at,
            step,
            error: event.Error ?? 'States.TaskFailed',
            cause: causeText(event.Cause),
          };
    case 'StateRetried':
      return step === undefined ? undefined : { type: 'StepRetried', at, step };
    default:
      return undefined;
  }
}
