import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { ecsClient } from '#commons/clients/ecs.ts';
import { readEnvironment } from '#commons/env.ts';
import { logger, metrics, tracer } from '#commons/powertools.ts';
import { environmentSchema } from './env.ts';
import { type VerifyApplicationEvent, verifyApplicationSchema } from './schema.ts';
import { verifyApplication } from './verify-application.ts';

const env = readEnvironment(environmentSchema);

/** VerifyApplication step (in the VPC, verifier security group): one probe of the one-off task. */
export const handler = middy()
  .use(injectLambdaContext(logger))
  .use(captureLambdaHandler(tracer))
  .use(logMetrics(metrics))
  .use(parser({ schema: verifyApplicationSchema }))
  .handler(async (event: VerifyApplicationEvent) => {
    const verdict = await verifyApplication(
      event,
      { cluster: env.CLUSTER_ARN, appPort: env.APP_PORT, siteHost: env.SITE_HOST },
      ecsClient,
    );
    logger.info('application probe', { taskArn: event.taskArn, ...verdict });
    return verdict;
  });
