import { readEnvironment } from '#commons/env.ts';
import { lambdaHandler } from '#commons/lambda-handler.ts';
import { defineStep } from '#commons/step.ts';
import { environmentSchema } from './env.ts';
import { findLastKnownGood } from './find-last-known-good.ts';
import { findLastKnownGoodSchema } from './schema.ts';

const env = readEnvironment(environmentSchema);

/** FindLastKnownGood step: the rollback target from the ledger. */
export const handler = lambdaHandler(
  defineStep(findLastKnownGoodSchema, (event) =>
    findLastKnownGood(event, {
      tableName: env.LEDGER_TABLE_NAME,
      goodIndexName: env.LEDGER_GOOD_INDEX,
    }),
  ),
);
