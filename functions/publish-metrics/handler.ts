import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { cloudWatchClient } from '#commons/clients/cloudwatch.ts';
import { readEnvironment } from '#commons/env.ts';
import { logger, metrics, tracer } from '#commons/powertools.ts';
import { environmentSchema } from './env.ts';
import { publishMetrics } from './publish-metrics.ts';
import { type PublishMetricsEvent, publishMetricsSchema } from './schema.ts';

const env = readEnvironment(environmentSchema);

/** PublishMetrics step: the run's RTO, RPO and result as CloudWatch metrics. */
export const handler = middy()
  .use(injectLambdaContext(logger))
  .use(captureLambdaHandler(tracer))
  .use(logMetrics(metrics))
  .use(parser({ schema: publishMetricsSchema }))
  .handler(async (event: PublishMetricsEvent) => {
    const summary = await publishMetrics(
      event,
      { namespace: env.METRIC_NAMESPACE, databaseInstanceId: env.DATABASE_INSTANCE_ID },
      cloudWatchClient,
    );
    logger.info('verification metrics published', { ...summary });
    return summary;
  });
