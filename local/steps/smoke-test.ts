import { defineStep } from '#commons/step.ts';
import { smokeTestSchema } from '#functions/smoke-test/schema.ts';
import { smokeTest as runSmokeTest } from '#functions/smoke-test/smoke-test.ts';
import type { StepContext } from './context.ts';
import { localStep } from './local-step.ts';

/**
 * SmokeTest: the Lambda's own checks (`/readyz`, then the home page) through HAProxy on
 * 127.0.0.1; the site URL is the local one ValidateInput put in the release target.
 */
export function smokeTest(ctx: StepContext) {
  return localStep(
    defineStep(smokeTestSchema, async (event) => {
      const host = new URL(event.siteUrl).hostname;
      if (host !== '127.0.0.1')
        throw new Error(`local smoke tests only go to 127.0.0.1, not ${host}`);
      const result = await runSmokeTest(event, { intervalMs: 1000, requestTimeoutMs: 5000 });
      ctx.note(`SmokeTest: ${result.checks.map((c) => c.reason).join(', ')}`);
      return result;
    }),
  );
}
