import { readEnvironment } from '#commons/env.ts';
import { lambdaHandler } from '#commons/lambda-handler.ts';
import { logger } from '#commons/powertools.ts';
import { defineStep } from '#commons/step.ts';
import { liveDatabase, liveDatabaseOf, readManifestObject } from '#commons/verify-aws.ts';
import { environmentSchema } from './env.ts';
import {
  collectLiveManifest,
  putManifestIfAbsent,
  recordSnapshotManifest,
} from './record-snapshot-manifest.ts';
import { RecordSnapshotManifestInputSchema, type RecordSnapshotManifestOutput } from './schema.ts';

const env = readEnvironment(environmentSchema);

const database = liveDatabaseOf(env);

/** RecordSnapshotManifest Lambda (in the VPC, verifier security group). */
export const handler = lambdaHandler(
  defineStep(
    RecordSnapshotManifestInputSchema,
    async (event): Promise<RecordSnapshotManifestOutput> => {
      const result = await recordSnapshotManifest(
        event,
        { bucket: env.MANIFEST_BUCKET, prefix: env.MANIFEST_PREFIX },
        {
          readExisting: (key) => readManifestObject(env.MANIFEST_BUCKET, key),
          collect: async (snapshotId, createdAt) => {
            const live = await liveDatabase(database);
            return collectLiveManifest(
              live.open,
              live.where,
              snapshotId,
              createdAt,
              env.TABLE_PREFIX,
            );
          },
          putIfAbsent: (key, manifest) => putManifestIfAbsent(env.MANIFEST_BUCKET, key, manifest),
          now: () => new Date(),
        },
      );
      logger.info('snapshot manifest', { ...result });
      return result;
    },
  ),
);
