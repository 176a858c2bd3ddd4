import { defineStep } from '#commons/step.ts';
import { checkInstalled as probe } from '#functions/check-installed/check-installed.ts';
import { checkInstalledSchema } from '#functions/check-installed/schema.ts';
import type { StepContext } from './context.ts';
import { localStep } from './local-step.ts';

/**
 * CheckInstalled: the Lambda's own probe and `judgeInstalled` verdict (`/readyz` through
 * HAProxy on 127.0.0.1); the site URL is the local one ValidateInput put in the release target.
 */
export function checkInstalled(ctx: StepContext) {
  return localStep(
    defineStep(checkInstalledSchema, async (event) => {
      const host = new URL(event.siteUrl).hostname;
      if (host !== '127.0.0.1') throw new Error(`local probes only go to 127.0.0.1, not ${host}`);
      const verdict = await probe(event, { attempts: 3, intervalMs: 1000, requestTimeoutMs: 5000 });
      ctx.note(`CheckInstalled: ${verdict.state} (${verdict.reason})`);
      return verdict;
    }),
  );
}
