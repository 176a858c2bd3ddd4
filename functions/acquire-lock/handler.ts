import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { readEnvironment } from '#commons/env.ts';
import { logger, metrics, tracer } from '#commons/powertools.ts';
import { acquireLock } from './acquire-lock.ts';
import { environmentSchema } from './env.ts';
import { type AcquireLockEvent, acquireLockSchema } from './schema.ts';

const env = readEnvironment(environmentSchema);

/** AcquireLock step: one release per service at a time. */
export const handler = middy()
  .use(injectLambdaContext(logger))
  .use(captureLambdaHandler(tracer))
  .use(logMetrics(metrics))
  .use(parser({ schema: acquireLockSchema }))
  .handler((event: AcquireLockEvent) =>
    acquireLock(event, { tableName: env.LOCK_TABLE_NAME, leaseSeconds: env.LOCK_LEASE_SECONDS }),
  );
