import { rdsClient } from '#commons/clients/rds.ts';
import { readEnvironment } from '#commons/env.ts';
import { lambdaHandler } from '#commons/lambda-handler.ts';
import { logger } from '#commons/powertools.ts';
import { defineStep } from '#commons/step.ts';
import { environmentSchema } from './env.ts';
import { pickSnapshot } from './pick-snapshot.ts';
import { pickSnapshotSchema } from './schema.ts';

const env = readEnvironment(environmentSchema);

/** PickSnapshot step: the snapshot to restore, and the scratch instance's name and expiry. */
export const handler = lambdaHandler(
  defineStep(pickSnapshotSchema, async (event) => {
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
  }),
);
