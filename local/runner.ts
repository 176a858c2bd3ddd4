import type { HistoryEvent } from '@aws-sdk/client-sfn';
import {
  ExecutionError,
  type RunOptions,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';

// aws-local-stepfunctions 3 calls Promise.withResolvers, which Node 20 lacks.
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

/** JSON value as the runner passes it between states. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A value as the runner's Json: the one conversion local mode makes from a step's typed output
 * (or a release input) to what the next state receives. It is a JSON round trip because that
 * is what happens on AWS: the Lambda runtime serializes a handler's return value with
 * `JSON.stringify` and Step Functions passes JSON text, so `undefined` fields vanish and a
 * `Date` arrives as its ISO string locally too. `undefined` itself is `null`, as a Lambda that
 * returns nothing yields.
 */
export function toJson(value: unknown): Json {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

/** A local implementation of one Task state, bound by state name. */
export type StepHandler = (input: Json) => Promise<Json> | Json;

/** One per-state event as the local runner streams it (enter, exit, fail, retry, catch, ...). */
export type RunnerEvent = Awaited<
  ReturnType<ReturnType<StateMachine['run']>['eventLogs']['next']>
>['value'];

/** How to run one execution. */
export interface RunOptionsLocal {
  /** Task state name → local handler; every Task state reached must have one. */
  readonly handlers: Readonly<Record<string, StepHandler>>;
  /**
   * Execution name (the `$$.Execution.Name` context value), or a function of the start time for
   * a name that carries it. aws-local-stepfunctions stamps `$$.Execution.StartTime` itself when
   * the run begins, so the instant handed to the function is taken in the same synchronous
   * step, just before: the name's instant is never later than StartTime, and a release started
   * after another is named after it.
   */
  readonly executionName?: string | ((startTime: Date) => string);
  /**
   * Milliseconds every Wait state pauses (default 0) — real waits are for AWS, not tests — or a
   * function of the state's name, asked at each visit (a step may have decided the wait).
   */
  readonly waitMs?: number | ((state: string) => number);
  /** Milliseconds between retries of any retried state (default 0). */
  readonly retryMs?: number;
  /** Called for every event as it happens, e.g. for a progress display. */
  readonly onEvent?: (event: RunnerEvent) => void;
}

/** How an execution ended, with everything it emitted. */
export interface LocalExecution {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: Json;
  readonly error?: string;
  readonly cause?: string;
  readonly events: readonly RunnerEvent[];
}

type AnyState = {
  Type: string;
  Branches?: StateMachineDefinition[];
  Iterator?: StateMachineDefinition;
  ItemProcessor?: StateMachineDefinition;
};

/** Every state of a definition, including those nested in Parallel branches and Map processors. */
export function allStates(definition: StateMachineDefinition): Array<[string, AnyState]> {
  return Object.entries(definition.States as Record<string, AnyState>).flatMap(([name, state]) => [
    [name, state] as [string, AnyState],
    ...(state.Branches ?? []).flatMap(allStates),
    ...[state.Iterator, state.ItemProcessor].filter((d) => d !== undefined).flatMap(allStates),
  ]);
}

/**
 * Runs any ASL definition (JSONPath) locally with aws-local-stepfunctions, binding each Task
 * state to a local handler by state name, collapsing Wait states and retry intervals to the
 * given milliseconds, and collecting the per-state event stream. A Task with no handler fails
 * loudly rather than calling real AWS.
 */
export async function runLocal(
  definition: StateMachineDefinition,
  input: Json,
  options: RunOptionsLocal,
): Promise<LocalExecution> {
  const states = allStates(definition);
  const handlers: Record<string, StepHandler> = {};
  for (const [name, state] of states) {
    if (state.Type !== 'Task') continue;
    handlers[name] =
      options.handlers[name] ??
      (() => {
        throw new Error(`no local handler bound to Task state ${name}`);
      });
  }
  const waitStates = new Set(states.filter(([, s]) => s.Type === 'Wait').map(([name]) => name));
  const waitMs = options.waitMs ?? 0;
  // aws-local-stepfunctions looks the override up by state name at every visit of the state,
  // so a getter answers with the wait decided by then.
  const waits: Record<string, number> =
    typeof waitMs === 'function'
      ? new Proxy({} as Record<string, number>, {
          get: (_target, name) =>
            typeof name === 'string' && waitStates.has(name) ? waitMs(name) : undefined,
        })
      : Object.fromEntries([...waitStates].map((name) => [name, waitMs]));
  const retries = Object.fromEntries(
    states
      .filter(([, s]) => s.Type === 'Task' || s.Type === 'Parallel' || s.Type === 'Map')
      .map(([name]) => [name, options.retryMs ?? 0]),
  );
  const machine = new StateMachine(definition, {
    validationOptions: { checkArn: false, checkPaths: true },
  });
  const startTime = new Date();
  const executionName =
    typeof options.executionName === 'function'
      ? options.executionName(startTime)
      : (options.executionName ?? `local-${startTime.getTime()}`);
  const runOptions: RunOptions = {
    overrides: {
      taskResourceLocalHandlers: handlers as NonNullable<
        NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']
      >,
      waitTimeOverrides: waits,
      retryIntervalOverrides: retries,
    },
    context: {
      Execution: {
        Id: `arn:aws:states:us-east-1:123456789012:execution:local:${executionName}`,
        Name: executionName,
        Input: input,
      },
    },
  };
  const execution = machine.run(input as never, runOptions);
  const events: RunnerEvent[] = [];
  const collecting = (async () => {
    for await (const event of execution.eventLogs) {
      events.push(event);
      options.onEvent?.(event);
    }
  })();
  try {
    const output = (await execution.result) as Json;
    await collecting;
    return { status: 'SUCCEEDED', output, events };
  } catch (error) {
    await collecting.catch(() => undefined);
    const failed = events.find((e) => e?.type === 'ExecutionFailed') as
      | { Error?: string; Cause?: unknown }
      | undefined;
    if (!(error instanceof ExecutionError) && failed === undefined) throw error;
    const cause = failed?.Cause;
    return {
      status: 'FAILED',
      error: failed?.Error ?? (error instanceof Error ? error.name : 'Error'),
      cause: typeof cause === 'string' ? cause : JSON.stringify(cause),
      events,
    };
  }
}

const HISTORY_TYPES: Record<string, string> = {
  StateEntered: 'StateEntered',
  StateExited: 'StateExited',
};

/**
 * The runner's events in the shape of Step Functions `GetExecutionHistory` events, so the
 * same pure functions (durations, transitions) serve AWS and local executions.
 */
export function toHistoryEvents(events: readonly RunnerEvent[]): HistoryEvent[] {
  return events.flatMap((e, i): HistoryEvent[] => {
    if (!e) return [];
    const base = { id: i + 1, timestamp: new Date(e.timestamp) };
    if ('state' in e && HISTORY_TYPES[e.type]) {
      const kind = `${e.state.type}${e.type}` as HistoryEvent['type'];
      const details = { name: e.state.name };
      return [
        e.type === 'StateEntered'
          ? { ...base, type: kind, stateEnteredEventDetails: details }
          : { ...base, type: kind, stateExitedEventDetails: details },
      ];
    }
    if (
      e.type === 'ExecutionStarted' ||
      e.type === 'ExecutionSucceeded' ||
      e.type === 'ExecutionFailed'
    ) {
      return [{ ...base, type: e.type }];
    }
    return [];
  });
}

/**
 * State transitions as Step Functions bills them for a standard workflow: one per state
 * entered (a retry counts as another transition).
 */
export function countTransitions(events: readonly RunnerEvent[]): number {
  return events.filter((e) => e?.type === 'StateEntered' || e?.type === 'StateRetried').length;
}
