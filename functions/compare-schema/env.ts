import { stringVariable } from '#commons/env.ts';
import { liveDatabaseEnvironment } from '#commons/live-database.ts';

/** CompareSchema: the live database login (bindLiveDatabase) and the manifests it compares with (bindManifestReader). */
export const environmentSchema = liveDatabaseEnvironment.extend({
  MANIFEST_BUCKET: stringVariable(),
  MANIFEST_PREFIX: stringVariable(),
});
