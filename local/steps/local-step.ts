import type { z } from 'zod';
import type { Step } from '#commons/step.ts';
import { type StepHandler, toJson } from '../runner.ts';

/**
 * A step (functions/commons/step.ts) as the local runner's handler of its Task state: the
 * input parsed with the step's own schema, so a malformed input fails with zod's `ZodError`
 * before any local I/O (where the Lambda's parser middleware fails with `ParseError`); then the
 * step's logic, whose named errors pass through untouched for the ASL's `Retry` and `Catch`;
 * then its output as the runner's Json through {@link toJson}, the one conversion.
 */
export function localStep<S extends z.ZodType, O>(step: Step<S, O>): StepHandler {
  return async (input) => toJson(await step.run(step.schema.parse(input)));
}
