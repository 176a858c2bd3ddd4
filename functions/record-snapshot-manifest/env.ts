import * as z from 'zod';
import { numberVariable, stringVariable } from '#commons/env.ts';

/** RecordSnapshotManifest: the live database login (bindLiveDatabase) and where manifests are written. */
export const environmentSchema = z.object({
  DATABASE_SECRET_ARN: stringVariable(),
  DATABASE_NAME: stringVariable(),
  DATABASE_HOST: stringVariable(),
  DATABASE_PORT: numberVariable(),
  MANIFEST_BUCKET: stringVariable(),
  MANIFEST_PREFIX: stringVariable(),
  TABLE_PREFIX: stringVariable(),
});
