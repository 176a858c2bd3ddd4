import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoClient } from '#commons/clients/dynamodb.ts';
import { classifyAws, NoKnownGoodError } from '#commons/errors.ts';
import { chooseLastKnownGood, type KnownGood, type LedgerRecord } from '#commons/ledger.ts';
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
  const records = (result.Items ?? []) as LedgerRecord[];
  const choice = chooseLastKnownGood(
    records.filter((r) => r.releaseId !== event.releaseId),
    event.failedTaskDefinitionArn,
    event.previousTaskDefinitionArn,
  );
  if (!choice) {
    throw new NoKnownGoodError(
      `no revision of ${event.service} other than ${event.failedTaskDefinitionArn} is known to be healthy`,
    );
  }
  return choice;
}
