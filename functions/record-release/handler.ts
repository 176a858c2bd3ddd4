import { readEnvironment } from '#commons/env.ts';
import { lambdaHandler } from '#commons/lambda-handler.ts';
import { defineStep } from '#commons/step.ts';
import { environmentSchema } from './env.ts';
import { recordRelease } from './record-release.ts';
import { recordReleaseSchema } from './schema.ts';

const env = readEnvironment(environmentSchema);

/** RecordRelease step: the release ledger entry. */
export const handler = lambdaHandler(
  defineStep(recordReleaseSchema, (event) => recordRelease(event, env.LEDGER_TABLE_NAME)),
);
