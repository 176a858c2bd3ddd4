/** PublishMetrics: measured RTO (restore duration), RPO (snapshot age) and the result, as CloudWatch metrics. */
import {
  type CloudWatchClient,
  type MetricDatum,
  PutMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import { classifyAws } from '#commons/errors.ts';
import { VERIFY_METRICS, VERIFY_METRICS_DIMENSION } from '#commons/metrics.ts';
import type { PublishMetricsEvent, PublishMetricsOutput } from './schema.ts';

/** Metric names (from #commons/metrics.ts; the verify-restore construct alarms on these). */
export const METRIC_NAMES = VERIFY_METRICS;

function seconds(from?: string, to?: string): number | undefined {
  if (!from || !to) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) && ms >= 0 ? Math.round(ms / 1000) : undefined;
}

/**
 * The data points of one run. RTO (snapshot picked → restored copy accepted a connection) only
 * when the restore finished; RPO is the snapshot's age at
 * the start of the run; success and failure are both published (0/1) so either can be alarmed on.
 */
export function buildMetrics(
  input: PublishMetricsEvent,
  dimensions: { DatabaseInstance: string },
): { data: MetricDatum[]; summary: PublishMetricsOutput } {
  const Dimensions = [{ Name: VERIFY_METRICS_DIMENSION, Value: dimensions.DatabaseInstance }];
  const { run } = input;
  const passed = run.failure === undefined;
  const rtoSeconds = seconds(run.snapshot?.pickedAt, run.data?.connectedAt);
  const rpoSeconds = seconds(run.snapshot?.snapshotCreateTime, input.executionStartTime);
  const data: MetricDatum[] = [
    { MetricName: METRIC_NAMES.succeeded, Value: passed ? 1 : 0, Unit: 'Count', Dimensions },
    { MetricName: METRIC_NAMES.failed, Value: passed ? 0 : 1, Unit: 'Count', Dimensions },
  ];
  if (rtoSeconds !== undefined) {
    data.push({ MetricName: METRIC_NAMES.rto, Value: rtoSeconds, Unit: 'Seconds', Dimensions });
  }
  if (rpoSeconds !== undefined) {
    data.push({ MetricName: METRIC_NAMES.rpo, Value: rpoSeconds, Unit: 'Seconds', Dimensions });
  }
  return { data, summary: { passed, rtoSeconds, rpoSeconds } };
}

/** Publishes the data points (thin I/O); throttles become TransientAwsError, which the ASL retries. */
export async function putMetrics(
  cloudwatch: CloudWatchClient,
  namespace: string,
  data: MetricDatum[],
): Promise<void> {
  await classifyAws('PutMetricData', () =>
    cloudwatch.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: data })),
  );
}

/** Where the run's data points go. */
export interface PublishMetricsSettings {
  readonly namespace: string;
  /** The live database instance: the value of the metrics' dimension, as the alarms read it. */
  readonly databaseInstanceId: string;
}

/** The whole step: build the run's data points and publish them; returns what was published. */
export async function publishMetrics(
  input: PublishMetricsEvent,
  settings: PublishMetricsSettings,
  cloudwatch: CloudWatchClient,
): Promise<PublishMetricsOutput> {
  const { data, summary } = buildMetrics(input, { DatabaseInstance: settings.databaseInstanceId });
  await putMetrics(cloudwatch, settings.namespace, data);
  return summary;
}
