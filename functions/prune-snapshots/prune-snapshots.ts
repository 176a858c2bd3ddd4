/** PruneSnapshots: delete old release snapshots after a successful release (thin I/O). */
import {
  DeleteDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { classifyAws } from '#commons/errors.ts';
import type { LedgerRecord } from '#commons/ledger.ts';
import {
  chooseSnapshotsToDelete,
  type DeleteOutcome,
  knownGoodSnapshotIds,
  pruneResult,
  retentionQuestion,
  type SnapshotInfo,
} from '#commons/snapshot-retention.ts';
import type { PruneSnapshotsEvent, PruneSnapshotsOutput } from './schema.ts';

/** The ledger's sparse index of releases that proved a revision healthy. */
export interface PruneConfig {
  readonly ledgerTableName: string;
  readonly goodIndexName: string;
}

/** The AWS clients the step uses. */
export interface PruneClients {
  readonly rds: RDSClient;
  readonly dynamo: DynamoDBDocumentClient;
}

/** Manual snapshots of the instance with their tags (DescribeDBSnapshots returns TagList), all pages. */
export async function listManualSnapshots(
  rds: RDSClient,
  instanceId: string,
): Promise<SnapshotInfo[]> {
  const out: SnapshotInfo[] = [];
  let marker: string | undefined;
  do {
    const page = await classifyAws('DescribeDBSnapshots', () =>
      rds.send(
        new DescribeDBSnapshotsCommand({
          DBInstanceIdentifier: instanceId,
          SnapshotType: 'manual',
          MaxRecords: 100,
          Marker: marker,
        }),
      ),
    );
    for (const s of page.DBSnapshots ?? []) {
      out.push({
        id: s.DBSnapshotIdentifier ?? '',
        createdAt: s.SnapshotCreateTime?.toISOString(),
        status: s.Status ?? 'unknown',
        tags: Object.fromEntries((s.TagList ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
      });
    }
    marker = page.Marker;
  } while (marker);
  return out;
}

/** The newest good releases of the service, newest first (up to 5 pages of 25). */
export async function goodReleases(
  dynamo: DynamoDBDocumentClient,
  config: PruneConfig,
  service: string,
  wanted: number,
): Promise<LedgerRecord[]> {
  const out: LedgerRecord[] = [];
  let start: Record<string, unknown> | undefined;
  for (let page = 0; page < 5 && wanted > 0; page += 1) {
    const result = await classifyAws('Query ledger', () =>
      dynamo.send(
        new QueryCommand({
          TableName: config.ledgerTableName,
          IndexName: config.goodIndexName,
          KeyConditionExpression: 'service = :service',
          ExpressionAttributeValues: { ':service': service },
          ScanIndexForward: false,
          Limit: 25,
          ExclusiveStartKey: start,
        }),
      ),
    );
    out.push(...((result.Items ?? []) as LedgerRecord[]));
    start = result.LastEvaluatedKey;
    if (!start || knownGoodSnapshotIds(out, wanted).length >= wanted) break;
  }
  return out;
}

/** Deletes one snapshot; one already gone counts as deleted (idempotent under retries). */
async function deleteOne(rds: RDSClient, id: string): Promise<DeleteOutcome> {
  try {
    await rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: id }));
    return { id, ok: true };
  } catch (error) {
    if (error instanceof Error && error.name === 'DBSnapshotNotFoundFault') return { id, ok: true };
    return {
      id,
      ok: false,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    };
  }
}

/**
 * Lists the instance's manual snapshots and the last known-good releases, lets the shared
 * decision choose, and tries every deletion before reporting all failures at once.
 */
export async function pruneSnapshots(
  event: PruneSnapshotsEvent,
  config: PruneConfig,
  clients: PruneClients,
): Promise<PruneSnapshotsOutput> {
  const snapshots = await listManualSnapshots(clients.rds, event.dbInstanceIdentifier);
  const good =
    event.keepKnownGood > 0
      ? await goodReleases(clients.dynamo, config, event.service, event.keepKnownGood)
      : [];
  const decision = chooseSnapshotsToDelete(snapshots, retentionQuestion(event, good));
  const outcomes: DeleteOutcome[] = [];
  for (const id of decision.delete) outcomes.push(await deleteOne(clients.rds, id));
  return pruneResult(decision, outcomes);
}
