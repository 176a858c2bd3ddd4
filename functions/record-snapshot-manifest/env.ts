import { stringVariable } from '#commons/env.ts';
import { liveDatabaseEnvironment } from '#commons/live-database.ts';

/** RecordSnapshotManifest: the live database login (bindLiveDatabase) and where manifests are written. */
export const environmentSchema = liveDatabaseEnvironment.extend({
  MANIFEST_BUCKET: stringVariable(),
  MANIFEST_PREFIX: stringVariable(),
});
