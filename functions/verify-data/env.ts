import * as z from 'zod';
import { numberVariable, stringVariable } from '#commons/env.ts';

/** VerifyData: the database login, the live instance it falls back to, the manifests and the row-count tolerance. */
export const environmentSchema = z.object({
  DATABASE_SECRET_ARN: stringVariable(),
  DATABASE_NAME: stringVariable(),
  LIVE_DATABASE_HOST: stringVariable(),
  LIVE_DATABASE_PORT: numberVariable(),
  MANIFEST_BUCKET: stringVariable(),
  MANIFEST_PREFIX: stringVariable(),
  TABLE_PREFIX: stringVariable(),
  ROW_COUNT_TOLERANCE: numberVariable(),
});
