/** PickSnapshot: which snapshot to restore, and the scratch instance's name and expiry. */
import { type DBSnapshot, DescribeDBSnapshotsCommand, type RDSClient } from '@aws-sdk/client-rds';
import { classifyAws } from '#commons/errors.ts';
import { NoSnapshotError } from '#commons/verify-errors.ts';
import { scratchExpiry, scratchInstanceId } from '#commons/verify-scratch.ts';
import type { PickSnapshotEvent, PickSnapshotOutput } from './schema.ts';

/** A snapshot as the decision sees it. */
export interface SnapshotSummary {
  readonly id: string;
  readonly arn: string;
  readonly status: string;
  readonly createTime?: string;
}

/**
 * The snapshot to verify: the requested one (must be `available`), else the newest available
 * automated one. Throws NoSnapshotError saying which case failed.
 */
export function chooseSnapshot(
  requested: string | undefined,
  snapshots: readonly SnapshotSummary[],
  instanceId: string,
): { snapshot: SnapshotSummary; source: PickSnapshotOutput['source'] } {
  if (requested) {
    const found = snapshots.find((s) => s.id === requested);
    if (!found) throw new NoSnapshotError(`snapshot ${requested} does not exist`);
    if (found.status !== 'available' || !found.createTime) {
      throw new NoSnapshotError(`snapshot ${requested} is ${found.status}, not available`);
    }
    return { snapshot: found, source: 'given' };
  }
  const newest = snapshots
    .filter((s) => s.status === 'available' && s.createTime)
    .sort((a, b) => Date.parse(b.createTime ?? '') - Date.parse(a.createTime ?? ''))[0];
  if (!newest) {
    throw new NoSnapshotError(`database ${instanceId} has no available automated snapshot`);
  }
  return { snapshot: newest, source: 'latest-automated' };
}

function summarize(s: DBSnapshot): SnapshotSummary {
  return {
    id: s.DBSnapshotIdentifier ?? '',
    arn: s.DBSnapshotArn ?? '',
    status: s.Status ?? 'unknown',
    createTime: s.SnapshotCreateTime?.toISOString(),
  };
}

/** Reads the candidate snapshots from RDS (thin I/O); throttles become TransientAwsError, which the ASL retries. */
export async function describeCandidates(
  rds: RDSClient,
  instanceId: string,
  requested: string | undefined,
): Promise<SnapshotSummary[]> {
  const out: SnapshotSummary[] = [];
  let marker: string | undefined;
  try {
    do {
      const page = await classifyAws('DescribeDBSnapshots', () =>
        rds.send(
          new DescribeDBSnapshotsCommand(
            requested
              ? { DBSnapshotIdentifier: requested, Marker: marker }
              : { DBInstanceIdentifier: instanceId, SnapshotType: 'automated', Marker: marker },
          ),
        ),
      );
      out.push(...(page.DBSnapshots ?? []).map(summarize));
      marker = page.Marker;
    } while (marker);
  } catch (error) {
    if (error instanceof Error && error.name === 'DBSnapshotNotFoundFault') return [];
    throw error;
  }
  return out;
}

/** The whole step: choose, then name the scratch instance and its expiry. */
export async function pickSnapshot(
  input: PickSnapshotEvent,
  settings: { instanceId: string; scratchPrefix: string; scratchTtlMinutes: number; now: Date },
  rds: RDSClient,
): Promise<PickSnapshotOutput> {
  const candidates = await describeCandidates(rds, settings.instanceId, input.request.snapshotId);
  const { snapshot, source } = chooseSnapshot(
    input.request.snapshotId,
    candidates,
    settings.instanceId,
  );
  return {
    snapshotId: snapshot.id,
    snapshotArn: snapshot.arn,
    snapshotCreateTime: snapshot.createTime ?? '',
    source,
    pickedAt: settings.now.toISOString(),
    scratch: {
      instanceId: scratchInstanceId(settings.scratchPrefix, input.runId),
      expiresAt: scratchExpiry(settings.now, settings.scratchTtlMinutes),
    },
  };
}
