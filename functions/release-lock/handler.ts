import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { ecsClient } from '#commons/clients/ecs.ts';
import { readEnvironment } from '#commons/env.ts';
import { logger, metrics, tracer } from '#commons/powertools.ts';
import { environmentSchema } from './env.ts';
import { endRelease } from './release-lock.ts';
import { type ReleaseLockEvent, releaseLockSchema } from './schema.ts';

const env = readEnvironment(environmentSchema);

/** ReleaseLock step: frees the service lock this release holds and stops a trial it left. */
export const handler = middy()
  .use(injectLambdaContext(logger))
  .use(captureLambdaHandler(tracer))
  .use(logMetrics(metrics))
  .use(parser({ schema: releaseLockSchema }))
  .handler((event: ReleaseLockEvent) =>
    endRelease(event, { tableName: env.LOCK_TABLE_NAME, ecs: ecsClient, cluster: env.CLUSTER_ARN }),
  );
