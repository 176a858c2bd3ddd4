import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import middy from '@middy/core';
import { readEnvironment } from '#commons/env.ts';
import { logger } from '#commons/powertools.ts';
import { liveDatabase, readManifestObject } from '#commons/verify-aws.ts';
import { manifestKey } from '#commons/verify-manifest.ts';
import { compareSchema, readLiveSchema } from './compare-schema.ts';
import { environmentSchema } from './env.ts';
import {
  type CompareSchemaInput,
  CompareSchemaInputSchema,
  type CompareSchemaOutput,
} from './schema.ts';

const env = readEnvironment(environmentSchema);

const database = {
  secretArn: env.DATABASE_SECRET_ARN,
  host: env.DATABASE_HOST,
  port: env.DATABASE_PORT,
  database: env.DATABASE_NAME,
};

const compare = async (event: CompareSchemaInput): Promise<CompareSchemaOutput> => {
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
};

/** CompareSchema Lambda (in the VPC, verifier security group): the schema the release left. */
export const handler = middy(compare)
  .use(injectLambdaContext(logger))
  .use(parser({ schema: CompareSchemaInputSchema }));
