import { buildMetrics } from '#functions/publish-metrics/publish-metrics.ts';
import { releaseMetrics } from '#functions/record-release/record-release.ts';
import { type CfnTemplate, resolveTemplateValue } from '#local/template.ts';

/** One CloudWatch metric: namespace, name and dimensions (values resolved). */
export interface MetricIdentity {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** A comparable key of a metric. Pure. */
export function metricKey(m: MetricIdentity): string {
  const dims = Object.entries(m.dimensions)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `${m.namespace}|${m.name}|${dims}`;
}

/** Every metric name RecordRelease emits, for every outcome, from its own decision function. */
function releaseMetricNames(): string[] {
  const outcomes = ['SUCCEEDED', 'FAILED', 'ROLLED_BACK', 'DIRTY'] as const;
  return [
    ...new Set(
      outcomes.flatMap((outcome) =>
        releaseMetrics(outcome, '2026-01-01T00:00:00Z', '2026-01-01T00:10:00Z', {
          CheckHealth: 1000,
        }).map((m) => m.name),
      ),
    ),
  ];
}

/** Every metric name PublishMetrics emits, for a passed and a failed run, from buildMetrics. */
function verifyMetricNames(): string[] {
  const run = {
    snapshot: { snapshotCreateTime: '2026-01-01T00:00:00Z', pickedAt: '2026-01-01T01:00:00Z' },
    data: { connectedAt: '2026-01-01T01:20:00Z' },
  };
  const names = [run, { ...run, failure: { step: 'VerifyData' } }].flatMap((r) =>
    buildMetrics(
      { executionStartTime: '2026-01-01T01:00:00Z', run: r },
      { DatabaseInstance: 'db' },
    ).data.map((d) => d.MetricName ?? ''),
  );
  return [...new Set(names)];
}

/**
 * The custom metrics the template's functions emit: RecordRelease's (Powertools EMF under its
 * POWERTOOLS_METRICS_NAMESPACE, dimension `service` = its POWERTOOLS_SERVICE_NAME) and
 * PublishMetrics' (PutMetricData under its METRIC_NAMESPACE, dimension DatabaseInstance = its
 * DATABASE_INSTANCE_ID), each with the names its code emits.
 */
export function emittedMetrics(
  templates: Readonly<Record<string, CfnTemplate>>,
  stack: string,
): MetricIdentity[] {
  const out: MetricIdentity[] = [];
  for (const [id, resource] of Object.entries(templates[stack]?.Resources ?? {})) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const env = resolveTemplateValue(
      templates,
      stack,
      (resource.Properties?.Environment as { Variables?: unknown } | undefined)?.Variables ?? {},
    ) as Record<string, string>;
    if (id.startsWith('RecordRelease') && env.POWERTOOLS_METRICS_NAMESPACE) {
      for (const name of releaseMetricNames()) {
        out.push({
          namespace: env.POWERTOOLS_METRICS_NAMESPACE,
          name,
          dimensions: { service: env.POWERTOOLS_SERVICE_NAME ?? '' },
        });
      }
    }
    if (env.METRIC_NAMESPACE && env.DATABASE_INSTANCE_ID) {
      for (const name of verifyMetricNames()) {
        out.push({
          namespace: env.METRIC_NAMESPACE,
          name,
          dimensions: { DatabaseInstance: env.DATABASE_INSTANCE_ID },
        });
      }
    }
  }
  return out;
}

type Dimension = { Name: string; Value: unknown };
const dims = (list: Dimension[] | undefined): Record<string, string> =>
  Object.fromEntries((list ?? []).map((d) => [d.Name, String(d.Value)]));

/** Every metric an alarm or a dashboard widget of the template watches, and where. */
export function watchedMetrics(
  templates: Readonly<Record<string, CfnTemplate>>,
  stack: string,
): Array<MetricIdentity & { readonly where: string }> {
  const out: Array<MetricIdentity & { where: string }> = [];
  for (const [id, resource] of Object.entries(templates[stack]?.Resources ?? {})) {
    const props = resolveTemplateValue(templates, stack, resource.Properties ?? {}) as Record<
      string,
      unknown
    >;
    if (resource.Type === 'AWS::CloudWatch::Alarm') {
      if (typeof props.MetricName === 'string') {
        out.push({
          where: id,
          namespace: String(props.Namespace),
          name: props.MetricName,
          dimensions: dims(props.Dimensions as Dimension[]),
        });
      }
      for (const query of (props.Metrics as Array<Record<string, unknown>>) ?? []) {
        const metric = (query.MetricStat as { Metric?: Record<string, unknown> } | undefined)
          ?.Metric;
        if (!metric) continue;
        out.push({
          where: `${id}/${String(query.Id)}`,
          namespace: String(metric.Namespace),
          name: String(metric.MetricName),
          dimensions: dims(metric.Dimensions as Dimension[]),
        });
      }
    }
    if (resource.Type === 'AWS::CloudWatch::Dashboard') {
      const body = JSON.parse(String(props.DashboardBody)) as {
        widgets: Array<{ properties: { title?: string; metrics?: unknown[][] } }>;
      };
      for (const widget of body.widgets) {
        for (const row of widget.properties.metrics ?? []) {
          if (typeof row[0] !== 'string') continue; // a math expression, not a metric
          const [namespace, name, ...rest] = row as [string, string, ...unknown[]];
          const pairs = rest.filter((x) => typeof x === 'string') as string[];
          const dimensions: Record<string, string> = {};
          for (let i = 0; i + 1 < pairs.length; i += 2) {
            dimensions[pairs[i] as string] = pairs[i + 1] as string;
          }
          out.push({
            where: `${id}: ${widget.properties.title ?? '?'}`,
            namespace,
            name,
            dimensions,
          });
        }
      }
    }
  }
  return out;
}

/**
 * What an alarm or dashboard of the template watches that no function of it emits. AWS/*
 * namespaces are the services' own metrics (Step Functions executions, SQS queue depth).
 */
export function unpublishedMetrics(
  templates: Readonly<Record<string, CfnTemplate>>,
  stack: string,
): string[] {
  const emitted = new Set(emittedMetrics(templates, stack).map(metricKey));
  return watchedMetrics(templates, stack)
    .filter((m) => !m.namespace.startsWith('AWS/') && !emitted.has(metricKey(m)))
    .map((m) => `${m.where}: ${metricKey(m)}`);
}
