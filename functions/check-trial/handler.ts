import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { ecsClient } from '#commons/clients/ecs.ts';
import { readEnvironment } from '#commons/env.ts';
import { logger, metrics, tracer } from '#commons/powertools.ts';
import { checkTrial } from './check-trial.ts';
import { environmentSchema } from './env.ts';
import { type CheckTrialEvent, checkTrialSchema } from './schema.ts';

const env = readEnvironment(environmentSchema);

/** CheckTrial step (in the VPC): one poll of the trial task of the new revision. */
export const handler = middy()
  .use(injectLambdaContext(logger))
  .use(captureLambdaHandler(tracer))
  .use(logMetrics(metrics))
  .use(parser({ schema: checkTrialSchema }))
  .handler(async (event: CheckTrialEvent) => {
    const verdict = await checkTrial(event, ecsClient, {
      appPort: env.APP_PORT,
      siteHost: env.SITE_HOST,
      healthPath: env.HEALTH_CHECK_PATH,
    });
    logger.info('trial verdict', { status: verdict.status, reason: verdict.reason });
    return verdict;
  });
