import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { readEnvironment } from '#commons/env.ts';
import { logger, metrics, tracer } from '#commons/powertools.ts';
import { environmentSchema } from './env.ts';
import { findLastKnownGood } from './find-last-known-good.ts';
import { type FindLastKnownGoodEvent, findLastKnownGoodSchema } from './schema.ts';

const env = readEnvironment(environmentSchema);

/** FindLastKnownGood step: the rollback target from the ledger. */
export const handler = middy()
  .use(injectLambdaContext(logger))
  .use(captureLambdaHandler(tracer))
  .use(logMetrics(metrics))
  .use(parser({ schema: findLastKnownGoodSchema }))
  .handler((event: FindLastKnownGoodEvent) =>
    findLastKnownGood(event, {
      tableName: env.LEDGER_TABLE_NAME,
      goodIndexName: env.LEDGER_GOOD_INDEX,
    }),
  );
