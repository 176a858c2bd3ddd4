import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { rdsClient } from '#commons/clients/rds.ts';
import { readEnvironment } from '#commons/env.ts';
import { logger, metrics, tracer } from '#commons/powertools.ts';
import { environmentSchema } from './env.ts';
import { pickSnapshot } from './pick-snapshot.ts';
import { type PickSnapshotEvent, pickSnapshotSchema } from './schema.ts';

const env = readEnvironment(environmentSchema);

/** PickSnapshot step: the snapshot to restore, and the scratch instance's name and expiry. */
export const handler = middy()
  .use(injectLambdaContext(logger))
  .use(captureLambdaHandler(tracer))
  .use(logMetrics(metrics))
  .use(parser({ schema: pickSnapshotSchema }))
  .handler(async (event: PickSnapshotEvent) => {
    const out = await pickSnapshot(
      event,
      {
        instanceId: env.DATABASE_INSTANCE_ID,
        scratchPrefix: env.SCRATCH_PREFIX,
        scratchTtlMinutes: env.SCRATCH_TTL_MINUTES,
        now: new Date(),
      },
      rdsClient,
    );
    logger.info('snapshot picked', { snapshotId: out.snapshotId, source: out.source });
    return out;
  });
