import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { readEnv } from '#commons/env.ts';
import { logger, metrics, tracer } from '#commons/powertools.ts';
import { recordRelease } from './record-release.ts';
import { type RecordReleaseEvent, recordReleaseSchema } from './schema.ts';

const env = readEnv({ LEDGER_TABLE_NAME: 'string' });

/** RecordRelease step: the release ledger entry. */
export const handler = middy()
  .use(injectLambdaContext(logger))
  .use(captureLambdaHandler(tracer))
  .use(logMetrics(metrics))
  .use(parser({ schema: recordReleaseSchema }))
  .handler((event: RecordReleaseEvent) => recordRelease(event, env.LEDGER_TABLE_NAME));
