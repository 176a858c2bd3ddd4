import { ecsClient } from '#commons/clients/ecs.ts';
import { readEnvironment } from '#commons/env.ts';
import { lambdaHandler } from '#commons/lambda-handler.ts';
import { logger } from '#commons/powertools.ts';
import { defineStep } from '#commons/step.ts';
import { checkTrial } from './check-trial.ts';
import { environmentSchema } from './env.ts';
import { checkTrialSchema } from './schema.ts';

const env = readEnvironment(environmentSchema);

/** CheckTrial step (in the VPC): one poll of the trial task of the new revision. */
export const handler = lambdaHandler(
  defineStep(checkTrialSchema, async (event) => {
    const verdict = await checkTrial(event, ecsClient, {
      appPort: env.APP_PORT,
      siteHost: env.SITE_HOST,
      healthPath: env.HEALTH_CHECK_PATH,
    });
    logger.info('trial verdict', { status: verdict.status, reason: verdict.reason });
    return verdict;
  }),
);
