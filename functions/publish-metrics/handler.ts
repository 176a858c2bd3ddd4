import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import middy from '@middy/core';
import { cloudWatchClient } from '#commons/clients/cloudwatch.ts';
import { readEnv } from '#commons/env.ts';
import { logger } from '#commons/powertools.ts';
import { buildMetrics, putMetrics } from './publish-metrics.ts';
import {
  type PublishMetricsInput,
  PublishMetricsInputSchema,
  type PublishMetricsOutput,
} from './schema.ts';

const env = readEnv({ METRIC_NAMESPACE: 'string', DATABASE_INSTANCE_ID: 'string' });

const publish = async (event: PublishMetricsInput): Promise<PublishMetricsOutput> => {
  const { data, summary } = buildMetrics(event, { DatabaseInstance: env.DATABASE_INSTANCE_ID });
  await putMetrics(cloudWatchClient, env.METRIC_NAMESPACE, data);
  logger.info('verification metrics published', { ...summary });
  return summary;
};

/** PublishMetrics Lambda. */
export const handler = middy(publish)
  .use(injectLambdaContext(logger))
  .use(parser({ schema: PublishMetricsInputSchema }));
