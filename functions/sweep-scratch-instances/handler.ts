import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { rdsClient } from '#commons/clients/rds.ts';
import { logger, metrics, tracer } from '#commons/powertools.ts';
import { sweepScratchInstancesSchema } from './schema.ts';
import { sweepScratchInstances } from './sweep-scratch-instances.ts';

/** SweepScratchInstances (scheduled hourly): deletes scratch instances whose expiry has passed. */
export const handler = middy()
  .use(injectLambdaContext(logger))
  .use(captureLambdaHandler(tracer))
  .use(logMetrics(metrics))
  .use(parser({ schema: sweepScratchInstancesSchema }))
  .handler(() => sweepScratchInstances(rdsClient, new Date()));
