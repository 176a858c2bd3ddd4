import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoClient } from '#commons/clients/dynamodb.ts';
import { sfnClient } from '#commons/clients/sfn.ts';
import { stepDurations } from '#commons/durations.ts';
import { classifyAws } from '#commons/errors.ts';
import { buildLedgerRecord, type ReleaseOutcome, type ReleaseState } from '#commons/ledger.ts';
import { RELEASE_METRICS } from '#commons/metrics.ts';
import { logger, metrics } from '#commons/powertools.ts';
import type { RecordReleaseEvent } from './schema.ts';

/**
 * Names of the release metrics (from #commons/metrics.ts, which the dashboard charts and
 * alarms on; namespace and `service` dimension come from the Powertools environment).
 */
export { RELEASE_METRICS };

/** One data point of a finished release. */
export interface ReleaseMetric {
  readonly name: (typeof RELEASE_METRICS)[keyof typeof RELEASE_METRICS];
  readonly unit: 'Count' | 'Seconds';
  readonly value: number;
}

const OUTCOME_METRIC: Record<ReleaseOutcome, ReleaseMetric['name']> = {
  SUCCEEDED: RELEASE_METRICS.succeeded,
  FAILED: RELEASE_METRICS.failed,
  ROLLED_BACK: RELEASE_METRICS.rolledBack,
  DIRTY: RELEASE_METRICS.failureDirty,
};

/** The states of the first health gate: their time is the time from deploy to healthy. */
const HEALTH_GATE_STATES = ['WaitForHealth', 'CheckHealth'] as const;

/**
 * The metrics of a finished release. Exactly one outcome count is 1 and the other three are
 * 0, so the stacked "releases by outcome" chart adds up to the number of releases and every
 * series (and the FailureDirty alarm) has data. ReleaseDuration runs from the release's start
 * to its record. TimeToHealthy is the time spent in the health gate, only for a release that
 * passed it (SUCCEEDED) and only when the per-step durations are known.
 */
export function releaseMetrics(
  outcome: ReleaseOutcome,
  startedAt: string,
  finishedAt: string,
  durationsMs: Readonly<Record<string, number>> | undefined,
): ReleaseMetric[] {
  const counts = Object.entries(OUTCOME_METRIC).map(
    ([key, name]): ReleaseMetric => ({ name, unit: 'Count', value: key === outcome ? 1 : 0 }),
  );
  const out = [...counts];
  const elapsedMs = Date.parse(finishedAt) - Date.parse(startedAt);
  if (Number.isFinite(elapsedMs) && elapsedMs >= 0) {
    out.push({ name: RELEASE_METRICS.duration, unit: 'Seconds', value: elapsedMs / 1000 });
  }
  if (outcome === 'SUCCEEDED' && durationsMs?.CheckHealth !== undefined) {
    const gateMs = HEALTH_GATE_STATES.reduce((sum, state) => sum + (durationsMs[state] ?? 0), 0);
    out.push({ name: RELEASE_METRICS.timeToHealthy, unit: 'Seconds', value: gateMs / 1000 });
  }
  return out;
}

/** Reads the execution's history so far (all pages). */
export async function executionHistory(executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfnClient.send(
      new GetExecutionHistoryCommand({
        executionArn,
        maxResults: 1000,
        nextToken,
        includeExecutionData: false,
      }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/**
 * Writes the ledger record (idempotent: keyed by service and release id) and adds the release
 * metrics, which the handler's logMetrics middleware flushes as EMF. Per-step durations come
 * from the execution history; if that cannot be read the outcome is still recorded.
 */
export async function recordRelease(
  event: RecordReleaseEvent,
  tableName: string,
  history: (arn: string) => Promise<HistoryEvent[]> = executionHistory,
  now = new Date(),
) {
  let durationsMs: Record<string, number> | undefined;
  try {
    durationsMs = stepDurations(await history(event.executionArn));
  } catch (error) {
    logger.warn('execution history unavailable; recording without durations', { error });
  }
  const record = buildLedgerRecord(event.state as unknown as ReleaseState, durationsMs, now);
  await classifyAws('PutItem ledger', () =>
    dynamoClient.send(new PutCommand({ TableName: tableName, Item: record })),
  );
  // Only once the record is written: a failed write is retried, and must not count twice.
  for (const metric of releaseMetrics(
    record.outcome,
    record.startedAt,
    record.finishedAt,
    durationsMs,
  )) {
    metrics.addMetric(metric.name, MetricUnit[metric.unit], metric.value);
  }
  return { releaseId: record.releaseId, outcome: record.outcome, finishedAt: record.finishedAt };
}
