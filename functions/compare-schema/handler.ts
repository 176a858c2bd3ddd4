import { readEnvironment } from '#commons/env.ts';
import { lambdaHandler } from '#commons/lambda-handler.ts';
import { logger } from '#commons/powertools.ts';
import { defineStep } from '#commons/step.ts';
import { liveDatabase, liveDatabaseOf, readManifestObject } from '#commons/verify-aws.ts';
import { manifestKey } from '#commons/verify-manifest.ts';
import { compareSchema, readLiveSchema } from './compare-schema.ts';
import { environmentSchema } from './env.ts';
import { CompareSchemaInputSchema, type CompareSchemaOutput } from './schema.ts';

const env = readEnvironment(environmentSchema);

const database = liveDatabaseOf(env);

/** CompareSchema Lambda (in the VPC, verifier security group): the schema the release left. */
export const handler = lambdaHandler(
  defineStep(CompareSchemaInputSchema, async (event): Promise<CompareSchemaOutput> => {
    const result = await compareSchema(event, {
      loadManifest: (snapshotId) =>
        readManifestObject(env.MANIFEST_BUCKET, manifestKey(env.MANIFEST_PREFIX, snapshotId)),
      readLive: async () => {
        const live = await liveDatabase(database);
        return readLiveSchema(live.open, live.where, env.TABLE_PREFIX);
      },
    });
    logger.info('schema compared', { ...result });
    return result;
  }),
);
