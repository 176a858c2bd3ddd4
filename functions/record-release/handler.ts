import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { readEnvironment } from '#commons/env.ts';
import { logger, metrics, tracer } from '#commons/powertools.ts';
import { environmentSchema } from './env.ts';
import { recordRelease } from './record-release.ts';
import { type RecordReleaseEvent, recordReleaseSchema } from './schema.ts';

const env = readEnvironment(environmentSchema);

/** RecordRelease step: the release ledger entry. */
export const handler = middy()
  .use(injectLambdaContext(logger))
  .use(captureLambdaHandler(tracer))
  .use(logMetrics(metrics))
  .use(parser({ schema: recordReleaseSchema }))
  .handler((event: RecordReleaseEvent) => recordRelease(event, env.LEDGER_TABLE_NAME));
