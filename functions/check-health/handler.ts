import { lambdaHandler } from '#commons/lambda-handler.ts';
import { logger } from '#commons/powertools.ts';
import { defineStep } from '#commons/step.ts';
import { checkHealth } from './check-health.ts';
import { checkHealthSchema } from './schema.ts';

/** CheckHealth step (and CheckRollbackHealth): one poll of the health gate. */
export const handler = lambdaHandler(
  defineStep(checkHealthSchema, async (event) => {
    const verdict = await checkHealth(event);
    logger.info('health verdict', {
      status: verdict.status,
      reason: verdict.reason,
      phase: verdict.phase,
      nextPollSeconds: verdict.nextPollSeconds,
    });
    return verdict;
  }),
);
