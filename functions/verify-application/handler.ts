import { ecsClient } from '#commons/clients/ecs.ts';
import { readEnvironment } from '#commons/env.ts';
import { lambdaHandler } from '#commons/lambda-handler.ts';
import { logger } from '#commons/powertools.ts';
import { defineStep } from '#commons/step.ts';
import { environmentSchema } from './env.ts';
import { verifyApplicationSchema } from './schema.ts';
import { verifyApplication } from './verify-application.ts';

const env = readEnvironment(environmentSchema);

/** VerifyApplication step (in the VPC, verifier security group): one probe of the one-off task. */
export const handler = lambdaHandler(
  defineStep(verifyApplicationSchema, async (event) => {
    const verdict = await verifyApplication(
      event,
      { cluster: env.CLUSTER_ARN, appPort: env.APP_PORT, siteHost: env.SITE_HOST },
      ecsClient,
    );
    logger.info('application probe', { taskArn: event.taskArn, ...verdict });
    return verdict;
  }),
);
