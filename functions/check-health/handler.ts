import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { logger, metrics, tracer } from '#commons/powertools.ts';
import { checkHealth } from './check-health.ts';
import { type CheckHealthEvent, checkHealthSchema } from './schema.ts';

/** CheckHealth step (and CheckRollbackHealth): one poll of the health gate. */
export const handler = middy()
  .use(injectLambdaContext(logger))
  .use(captureLambdaHandler(tracer))
  .use(logMetrics(metrics))
  .use(parser({ schema: checkHealthSchema }))
  .handler(async (event: CheckHealthEvent) => {
    const verdict = await checkHealth(event);
    logger.info('health verdict', {
      status: verdict.status,
      reason: verdict.reason,
      phase: verdict.phase,
      nextPollSeconds: verdict.nextPollSeconds,
    });
    return verdict;
  });
