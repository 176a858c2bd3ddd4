import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoClient } from '#commons/clients/dynamodb.ts';
import { classifyAws } from '#commons/errors.ts';
import { type KnownGood, type LedgerRecord, rollbackTarget } from '#commons/ledger.ts';
import type { FindLastKnownGoodEvent } from './schema.ts';

/** The ledger table and its sparse index of releases that proved a revision healthy. */
export interface LedgerConfig {
  readonly tableName: string;
  readonly goodIndexName: string;
}

/** Reads the newest good releases of the service and picks the rollback target. */
export async function findLastKnownGood(
  event: FindLastKnownGoodEvent,
  config: LedgerConfig,
): Promise<KnownGood> {
  const result = await classifyAws('Query ledger', () =>
    dynamoClient.send(
      new QueryCommand({
        TableName: config.tableName,
        IndexName: config.goodIndexName,
        KeyConditionExpression: 'service = :service',
        ExpressionAttributeValues: { ':service': event.service },
        ScanIndexForward: false,
        Limit: 10,
      }),
    ),
  );
  return rollbackTarget((result.Items ?? []) as LedgerRecord[], event);
}
