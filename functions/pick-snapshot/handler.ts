import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import middy from '@middy/core';
import { rdsClient } from '#commons/clients/rds.ts';
import { readEnv } from '#commons/env.ts';
import { logger } from '#commons/powertools.ts';
import { pickSnapshot } from './pick-snapshot.ts';
import {
  type PickSnapshotInput,
  PickSnapshotInputSchema,
  type PickSnapshotOutput,
} from './schema.ts';

const env = readEnv({
  DATABASE_INSTANCE_ID: 'string',
  SCRATCH_PREFIX: 'string',
  SCRATCH_TTL_MINUTES: 'number',
});

const pick = async (event: PickSnapshotInput): Promise<PickSnapshotOutput> => {
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
};

/** PickSnapshot Lambda. */
export const handler = middy(pick)
  .use(injectLambdaContext(logger))
  .use(parser({ schema: PickSnapshotInputSchema }));
