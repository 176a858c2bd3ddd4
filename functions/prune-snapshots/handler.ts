import { dynamoClient } from '#commons/clients/dynamodb.ts';
import { rdsClient } from '#commons/clients/rds.ts';
import { readEnvironment } from '#commons/env.ts';
import { lambdaHandler } from '#commons/lambda-handler.ts';
import { logger } from '#commons/powertools.ts';
import { defineStep } from '#commons/step.ts';
import { environmentSchema } from './env.ts';
import { pruneSnapshots } from './prune-snapshots.ts';
import { pruneSnapshotsSchema } from './schema.ts';

const env = readEnvironment(environmentSchema);

/** PruneSnapshots step: delete old release snapshots after a successful release. */
export const handler = lambdaHandler(
  defineStep(pruneSnapshotsSchema, async (event) => {
    const out = await pruneSnapshots(
      event,
      { ledgerTableName: env.LEDGER_TABLE_NAME, goodIndexName: env.LEDGER_GOOD_INDEX },
      { rds: rdsClient, dynamo: dynamoClient },
    );
    logger.info('release snapshots pruned', { deleted: out.deleted, kept: out.kept.length });
    return out;
  }),
);
