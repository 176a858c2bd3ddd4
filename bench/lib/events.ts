import type { LambdaInvocation } from './cost.ts';

/** The part of a local runner event (aws-local-stepfunctions) the bench reads. */
export interface BenchEvent {
  readonly type: string;
  readonly timestamp: number;
  readonly state?: { readonly name: string };
}

/** A state definition as far as the bench needs it. */
interface StateDef {
  readonly Type: string;
  readonly Resource?: string;
  readonly Branches?: readonly { readonly States: Record<string, StateDef> }[];
}

/**
 * Names of the Task states that invoke a Lambda function (directly by function ARN, a
 * `${...FunctionArn}` placeholder, or through `lambda:invoke`), in Parallel branches too. Pure.
 */
export function lambdaStates(definition: {
  readonly States: Record<string, StateDef>;
}): Set<string> {
  const out = new Set<string>();
  const walk = (states: Record<string, StateDef>) => {
    for (const [name, state] of Object.entries(states)) {
      const resource = state.Resource ?? '';
      if (
        state.Type === 'Task' &&
        (/:lambda:/.test(resource) ||
          /FunctionArn\}?$/.test(resource) ||
          /lambda:invoke/.test(resource))
      )
        out.add(name);
      for (const branch of state.Branches ?? []) walk(branch.States);
    }
  };
  walk(definition.States);
  return out;
}

/** State transitions as billed: one per state entered, one more per retry. Pure. */
export function transitions(events: readonly BenchEvent[]): number {
  return events.filter((e) => e.type === 'StateEntered' || e.type === 'StateRetried').length;
}

/**
 * Lambda invocations from the event stream: each entry into (or retry of) a Lambda Task state
 * is one invocation, lasting until that state exits or fails. Pure.
 */
export function lambdaInvocations(
  events: readonly BenchEvent[],
  lambdas: ReadonlySet<string>,
  memoryMb: number,
): LambdaInvocation[] {
  const open = new Map<string, number>();
  const out: LambdaInvocation[] = [];
  for (const e of events) {
    const name = e.state?.name;
    if (name === undefined || !lambdas.has(name)) continue;
    if (e.type === 'StateEntered' || e.type === 'StateRetried') open.set(name, e.timestamp);
    else if (e.type === 'StateExited' || e.type === 'StateFailed') {
      const started = open.get(name);
      if (started === undefined) continue;
      open.delete(name);
      out.push({ function: name, durationMs: Math.max(0, e.timestamp - started), memoryMb });
    }
  }
  return out;
}

/** Epoch ms at which the named state was first entered, or undefined. Pure. */
export function firstEntered(events: readonly BenchEvent[], state: string): number | undefined {
  return events.find((e) => e.type === 'StateEntered' && e.state?.name === state)?.timestamp;
}
