import { readEnvironment } from '#commons/env.ts';
import { lambdaHandler } from '#commons/lambda-handler.ts';
import { defineStep } from '#commons/step.ts';
import { acquireLock } from './acquire-lock.ts';
import { environmentSchema } from './env.ts';
import { acquireLockSchema } from './schema.ts';

const env = readEnvironment(environmentSchema);

/** AcquireLock step: one release per service at a time. */
export const handler = lambdaHandler(
  defineStep(acquireLockSchema, (event) =>
    acquireLock(event, { tableName: env.LOCK_TABLE_NAME, leaseSeconds: env.LOCK_LEASE_SECONDS }),
  ),
);
