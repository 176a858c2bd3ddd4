import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import middy from '@middy/core';
import { readEnvironment } from '#commons/env.ts';
import { logger } from '#commons/powertools.ts';
import { liveDatabase, readManifestObject } from '#commons/verify-aws.ts';
import { environmentSchema } from './env.ts';
import {
  collectLiveManifest,
  putManifestIfAbsent,
  recordSnapshotManifest,
} from './record-snapshot-manifest.ts';
import {
  type RecordSnapshotManifestInput,
  RecordSnapshotManifestInputSchema,
  type RecordSnapshotManifestOutput,
} from './schema.ts';

const env = readEnvironment(environmentSchema);

const database = {
  secretArn: env.DATABASE_SECRET_ARN,
  host: env.DATABASE_HOST,
  port: env.DATABASE_PORT,
  database: env.DATABASE_NAME,
};

const record = async (
  event: RecordSnapshotManifestInput,
): Promise<RecordSnapshotManifestOutput> => {
  const result = await recordSnapshotManifest(
    event,
    { bucket: env.MANIFEST_BUCKET, prefix: env.MANIFEST_PREFIX },
    {
      readExisting: (key) => readManifestObject(env.MANIFEST_BUCKET, key),
      collect: async (snapshotId, createdAt) => {
        const live = await liveDatabase(database);
        return collectLiveManifest(live.open, live.where, snapshotId, createdAt, env.TABLE_PREFIX);
      },
      putIfAbsent: (key, manifest) => putManifestIfAbsent(env.MANIFEST_BUCKET, key, manifest),
      now: () => new Date(),
    },
  );
  logger.info('snapshot manifest', { ...result });
  return result;
};

/** RecordSnapshotManifest Lambda (in the VPC, verifier security group). */
export const handler = middy(record)
  .use(injectLambdaContext(logger))
  .use(parser({ schema: RecordSnapshotManifestInputSchema }));
