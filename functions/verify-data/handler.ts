import { readEnvironment } from '#commons/env.ts';
import { lambdaHandler } from '#commons/lambda-handler.ts';
import { logger } from '#commons/powertools.ts';
import { defineStep } from '#commons/step.ts';
import { readDatabaseLogin, readManifestObject } from '#commons/verify-aws.ts';
import { connectDatabase } from '#commons/verify-data-sql.ts';
import { manifestKey } from '#commons/verify-manifest.ts';
import { environmentSchema } from './env.ts';
import { verifyDataSchema } from './schema.ts';
import { verifyData } from './verify-data.ts';

const env = readEnvironment(environmentSchema);

/** VerifyData step (in the VPC, verifier security group): the restored data against its manifest. */
export const handler = lambdaHandler(
  defineStep(verifyDataSchema, async (event) => {
    // A restored instance keeps the master login it had at snapshot time: the same secret.
    const login = await readDatabaseLogin(env.DATABASE_SECRET_ARN);
    const open = (host: string, port: number) =>
      connectDatabase({
        host,
        port,
        user: login.username,
        password: login.password,
        database: env.DATABASE_NAME,
      });
    const verdict = await verifyData(
      event.snapshotId,
      { tablePrefix: env.TABLE_PREFIX, rowCountTolerance: env.ROW_COUNT_TOLERANCE },
      {
        openScratch: () => open(event.scratch.host, event.scratch.port),
        openLive: () => open(env.LIVE_DATABASE_HOST, env.LIVE_DATABASE_PORT),
        loadManifest: (id) =>
          readManifestObject(env.MANIFEST_BUCKET, manifestKey(env.MANIFEST_PREFIX, id)),
      },
    );
    logger.info('restored data verified', {
      snapshotId: event.snapshotId,
      mode: verdict.mode,
      tables: verdict.checkedTables.length,
    });
    return verdict;
  }),
);
