import { GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoClient } from '#commons/clients/dynamodb.ts';
import { sfnClient } from '#commons/clients/sfn.ts';
import { stepDurations } from '#commons/durations.ts';
import { classifyAws } from '#commons/errors.ts';
import { buildLedgerRecord, type ReleaseState } from '#commons/ledger.ts';
import { logger } from '#commons/powertools.ts';
import type { RecordReleaseEvent } from './schema.ts';

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
 * Writes the ledger record (idempotent: keyed by service and release id). Per-step durations
 * come from the execution history; if that cannot be read the outcome is still recorded.
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
  return { releaseId: record.releaseId, outcome: record.outcome, finishedAt: record.finishedAt };
}
