import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { dynamoClient } from '#commons/clients/dynamodb.ts';
import { rdsClient } from '#commons/clients/rds.ts';
import { readEnvironment } from '#commons/env.ts';
import { logger, metrics, tracer } from '#commons/powertools.ts';
import { environmentSchema } from './env.ts';
import { pruneSnapshots } from './prune-snapshots.ts';
import { type PruneSnapshotsEvent, pruneSnapshotsSchema } from './schema.ts';

const env = readEnvironment(environmentSchema);

/** PruneSnapshots step: delete old release snapshots after a successful release. */
export const handler = middy()
  .use(injectLambdaContext(logger))
  .use(captureLambdaHandler(tracer))
  .use(logMetrics(metrics))
  .use(parser({ schema: pruneSnapshotsSchema }))
  .handler(async (event: PruneSnapshotsEvent) => {
    const out = await pruneSnapshots(
      event,
      { ledgerTableName: env.LEDGER_TABLE_NAME, goodIndexName: env.LEDGER_GOOD_INDEX },
      { rds: rdsClient, dynamo: dynamoClient },
    );
    logger.info('release snapshots pruned', { deleted: out.deleted, kept: out.kept.length });
    return out;
  });
