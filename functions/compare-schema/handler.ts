import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import middy from '@middy/core';
import { readEnv } from '#commons/env.ts';
import { logger } from '#commons/powertools.ts';
import { readDatabaseLogin, readManifestObject } from '#commons/verify-aws.ts';
import { connectDatabase } from '#commons/verify-data-sql.ts';
import { manifestKey } from '#commons/verify-manifest.ts';
import { compareSchema, readLiveSchema } from './compare-schema.ts';
import {
  type CompareSchemaInput,
  CompareSchemaInputSchema,
  type CompareSchemaOutput,
} from './schema.ts';

const env = readEnv({
  DATABASE_SECRET_ARN: 'string',
  DATABASE_NAME: 'string',
  DATABASE_HOST: 'string',
  DATABASE_PORT: 'number',
  MANIFEST_BUCKET: 'string',
  MANIFEST_PREFIX: 'string',
  TABLE_PREFIX: 'string',
});

const compare = async (event: CompareSchemaInput): Promise<CompareSchemaOutput> => {
  const result = await compareSchema(event, {
    loadManifest: (snapshotId) =>
      readManifestObject(env.MANIFEST_BUCKET, manifestKey(env.MANIFEST_PREFIX, snapshotId)),
    readLive: async () => {
      const login = await readDatabaseLogin(env.DATABASE_SECRET_ARN);
      return readLiveSchema(
        () =>
          connectDatabase({
            host: env.DATABASE_HOST,
            port: env.DATABASE_PORT,
            user: login.username,
            password: login.password,
            database: env.DATABASE_NAME,
          }),
        `${env.DATABASE_HOST}:${env.DATABASE_PORT}`,
        env.TABLE_PREFIX,
      );
    },
  });
  logger.info('schema compared', { ...result });
  return result;
};

/** CompareSchema Lambda (in the VPC, verifier security group): the schema the release left. */
export const handler = middy(compare)
  .use(injectLambdaContext(logger))
  .use(parser({ schema: CompareSchemaInputSchema }));
