import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { logger, metrics, tracer } from '#commons/powertools.ts';
import { type SmokeTestEvent, smokeTestSchema } from './schema.ts';
import { smokeTest } from './smoke-test.ts';

/** SmokeTest step: HTTP checks through the load balancer. */
export const handler = middy()
  .use(injectLambdaContext(logger))
  .use(captureLambdaHandler(tracer))
  .use(logMetrics(metrics))
  .use(parser({ schema: smokeTestSchema }))
  .handler((event: SmokeTestEvent) => smokeTest(event));
