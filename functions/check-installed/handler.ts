import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { logger, metrics, tracer } from '#commons/powertools.ts';
import { checkInstalled } from './check-installed.ts';
import { type CheckInstalledEvent, checkInstalledSchema } from './schema.ts';

/** CheckInstalled step: is WordPress installed on the database (`/readyz` through the ALB)? */
export const handler = middy()
  .use(injectLambdaContext(logger))
  .use(captureLambdaHandler(tracer))
  .use(logMetrics(metrics))
  .use(parser({ schema: checkInstalledSchema }))
  .handler((event: CheckInstalledEvent) => checkInstalled(event));
