import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { logger, metrics, tracer } from '#commons/powertools.ts';
import { deployService } from './deploy-service.ts';
import { type DeployServiceEvent, deployServiceSchema } from './schema.ts';

/** DeployService step (and the Rollback state): UpdateService to a revision. */
export const handler = middy()
  .use(injectLambdaContext(logger))
  .use(captureLambdaHandler(tracer))
  .use(logMetrics(metrics))
  .use(parser({ schema: deployServiceSchema }))
  .handler((event: DeployServiceEvent) => deployService(event));
