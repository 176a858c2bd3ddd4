import { ecsClient } from '#commons/clients/ecs.ts';
import { readEnvironment } from '#commons/env.ts';
import { lambdaHandler } from '#commons/lambda-handler.ts';
import { defineStep } from '#commons/step.ts';
import { environmentSchema } from './env.ts';
import { endRelease } from './release-lock.ts';
import { releaseLockSchema } from './schema.ts';

const env = readEnvironment(environmentSchema);

/** ReleaseLock step: frees the service lock this release holds and stops a trial it left. */
export const handler = lambdaHandler(
  defineStep(releaseLockSchema, (event) =>
    endRelease(event, { tableName: env.LOCK_TABLE_NAME, ecs: ecsClient, cluster: env.CLUSTER_ARN }),
  ),
);
