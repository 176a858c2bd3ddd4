import { lambdaHandler } from '#commons/lambda-handler.ts';
import { defineStep } from '#commons/step.ts';
import { deployService } from './deploy-service.ts';
import { deployServiceSchema } from './schema.ts';

/** DeployService step (and the Rollback state): UpdateService to a revision. */
export const handler = lambdaHandler(
  defineStep(deployServiceSchema, (event) => deployService(event)),
);
