import type { ReleaseTarget } from '#commons/release.ts';
import { defineStep } from '#commons/step.ts';
import { validateInputEventSchema } from '#functions/validate-input/schema.ts';
import { validateRelease } from '#functions/validate-input/validate-input.ts';
import { localTarget, type StepContext } from './context.ts';
import { localStep } from './local-step.ts';

/**
 * ValidateInput: the Lambda's pure validation, with the local stack's coordinates standing in
 * for the stack's (cluster, service, HAProxy backend, MariaDB container, 127.0.0.1 site URL).
 */
export function validateInput(ctx: StepContext) {
  return localStep(
    defineStep(validateInputEventSchema, (event) => {
      const target = localTarget(ctx, event.target as ReleaseTarget);
      return validateRelease(event.input, {
        executionName: event.executionName,
        startTime: event.startTime,
        target,
      });
    }),
  );
}
