import { cloudWatchClient } from '#commons/clients/cloudwatch.ts';
import { readEnvironment } from '#commons/env.ts';
import { lambdaHandler } from '#commons/lambda-handler.ts';
import { logger } from '#commons/powertools.ts';
import { defineStep } from '#commons/step.ts';
import { environmentSchema } from './env.ts';
import { publishMetrics } from './publish-metrics.ts';
import { publishMetricsSchema } from './schema.ts';

const env = readEnvironment(environmentSchema);

/** PublishMetrics step: the run's RTO, RPO and result as CloudWatch metrics. */
export const handler = lambdaHandler(
  defineStep(publishMetricsSchema, async (event) => {
    const summary = await publishMetrics(
      event,
      { namespace: env.METRIC_NAMESPACE, databaseInstanceId: env.DATABASE_INSTANCE_ID },
      cloudWatchClient,
    );
    logger.info('verification metrics published', { ...summary });
    return summary;
  }),
);
