/**
 * The one source of custom metric names and namespaces: the steps that emit them
 * (functions/record-release as EMF through Powertools, functions/publish-metrics with
 * PutMetricData) and the constructs that chart and alarm on them
 * (pipeline-stack/constructs/dashboard.ts, verify-restore/alarms.ts, step-function.ts)
 * import these. CloudWatch names are case-sensitive: a dashboard or alarm on a name or
 * namespace nobody publishes shows nothing and, with missing data breaching, fires for ever.
 * test/cdk/metrics.test.ts checks every alarm and dashboard metric of the template against
 * what the steps emit.
 */

/** Namespace of the release metrics (POWERTOOLS_METRICS_NAMESPACE of every step function). */
export const RELEASE_METRICS_NAMESPACE = 'Stepdeploy';

/**
 * Default value of the `service` dimension Powertools adds to every release metric
 * (POWERTOOLS_SERVICE_NAME of the functions); the pipeline stack uses its config prefix.
 */
export const METRICS_SERVICE = 'stepdeploy';

/** Release metrics, emitted by RecordRelease once per finished release. */
export const RELEASE_METRICS = {
  succeeded: 'ReleaseSucceeded',
  failed: 'ReleaseFailed',
  rolledBack: 'ReleaseRolledBack',
  failureDirty: 'FailureDirty',
  duration: 'ReleaseDuration',
  timeToHealthy: 'TimeToHealthy',
} as const;

/** Namespace of the backup verification metrics (PublishMetrics' METRIC_NAMESPACE). */
export const VERIFY_METRICS_NAMESPACE = 'stepdeploy/BackupVerification';

/** Backup verification metrics, emitted by PublishMetrics with a `DatabaseInstance` dimension. */
export const VERIFY_METRICS = {
  rto: 'RestoreDurationSeconds',
  rpo: 'SnapshotAgeSeconds',
  succeeded: 'VerificationSucceeded',
  failed: 'VerificationFailed',
} as const;

/** The dimension PublishMetrics puts on every verification metric. */
export const VERIFY_METRICS_DIMENSION = 'DatabaseInstance';
