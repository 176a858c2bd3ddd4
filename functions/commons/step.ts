import type { z } from 'zod';

/**
 * One Task-state step: the zod schema of its input and the logic that runs on the parsed
 * input. The Lambda wraps it with `lambdaHandler` (functions/commons/lambda-handler.ts: the
 * Powertools parser parses), local mode with `localStep` (local/steps/local-step.ts: the same
 * schema parses); either way the logic only ever sees `z.output<S>`.
 */
export interface Step<S extends z.ZodType, O> {
  /** The step's input contract (`<step>Schema` in functions/<step>/schema.ts). */
  readonly schema: S;
  /** The step's logic on the parsed input; a thrown named error is the ASL's `ErrorEquals`. */
  readonly run: (event: z.output<S>) => Promise<O>;
}

/**
 * A typed step from its input schema and its logic. A synchronous `run` is awaited like an
 * asynchronous one, and a synchronous throw becomes a rejection: a Lambda handler and a local
 * adapter both end in a promise.
 */
export function defineStep<S extends z.ZodType, O>(
  schema: S,
  run: (event: z.output<S>) => O | Promise<O>,
): Step<S, O> {
  return { schema, run: async (event) => run(event) };
}
