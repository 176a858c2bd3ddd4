/**
 * RecordSnapshotManifest: row counts and content checksums of the live database, and its
 * schema (db_version, tables and columns, which CompareSchema later compares with), written
 * to the manifest bucket under `manifestKey(prefix, snapshotId)` just before the release's
 * CreateDBSnapshot, so VerifyData can later compare a restore of that snapshot with it.
 *
 * Caveat (documented in docs/release.md): RDS offers no way to take the manifest and the
 * snapshot at one instant (no FLUSH TABLES WITH READ LOCK for the master user, and a snapshot
 * is not a transaction). A write between this step and CreateDBSnapshot makes the restored
 * row count or checksum differ, and VerifyData's manifest mode compares them exactly
 * (RowCountMismatch / ChecksumMismatch), with no tolerance: on a busy site such a verification
 * can fail although the backup is fine. The window is this Lambda's return plus the
 * CreateDBSnapshot call (seconds).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Connection } from 'mysql2/promise';
import { s3Client } from '#commons/clients/s3.ts';
import { classifyAws, NamedError, TransientAwsError } from '#commons/errors.ts';
import { withLiveDatabase } from '#commons/live-database.ts';
import { LIVE_READERS } from '#commons/table-content.ts';
import type { SnapshotManifest } from '#commons/verify-data-checks.ts';
import { collectManifest, manifestKey } from '#commons/verify-manifest.ts';
import type { RecordSnapshotManifestInput, RecordSnapshotManifestOutput } from './schema.ts';

/** Raised by collectLiveManifest (it lives in commons: CompareSchema reads the live database too). */
export { LiveDatabaseError } from '#commons/live-database.ts';

/** The manifest key already holds another snapshot's manifest: it is never overwritten. */
export class ManifestConflictError extends NamedError {
  override readonly name = 'ManifestConflictError';
}

/** Where manifests go. */
export interface ManifestSettings {
  readonly bucket: string;
  /** Key prefix, `manifests/` (VerifyData reads the same one). */
  readonly prefix: string;
}

/** What the step reaches; the handler binds S3, Secrets Manager and mysql2, tests fake them. */
export interface RecordSnapshotManifestDeps {
  /** The manifest already stored under `key`, or undefined. */
  readExisting(key: string): Promise<SnapshotManifest | undefined>;
  /** The live database's manifest, labelled with `snapshotId` and `createdAt`. */
  collect(snapshotId: string, createdAt: Date): Promise<SnapshotManifest>;
  /** Stores the manifest unless `key` exists; says which happened. */
  putIfAbsent(key: string, manifest: SnapshotManifest): Promise<'written' | 'exists'>;
  now(): Date;
}

/**
 * Decides what an existing manifest means for this snapshot: undefined (none: record one), the
 * manifest to keep (a retry after it was written), or a conflict (another snapshot's). Pure.
 */
export function keepExisting(
  existing: SnapshotManifest | undefined,
  snapshotId: string,
  key: string,
): SnapshotManifest | undefined {
  if (!existing) return undefined;
  if (existing.snapshotId !== snapshotId) {
    throw new ManifestConflictError(
      `${key} holds the manifest of ${existing.snapshotId}, not ${snapshotId}; it is left as it is`,
    );
  }
  return existing;
}

/** The step's answer for a stored manifest. Pure. */
export function describeManifest(
  bucket: string,
  key: string,
  manifest: SnapshotManifest,
  state: 'recorded' | 'kept',
): RecordSnapshotManifestOutput {
  return {
    snapshotId: manifest.snapshotId,
    location: `s3://${bucket}/${key}`,
    consistency: 'before-snapshot',
    state,
    tables: Object.keys(manifest.tables).length,
    createdAt: manifest.createdAt,
  };
}

/**
 * Records the manifest once per snapshot id. Idempotent under Step Functions retries: a
 * manifest already stored for this snapshot is kept (never replaced by later numbers, which
 * would no longer describe the snapshot), and a concurrent writer is settled by the
 * conditional put.
 */
export async function recordSnapshotManifest(
  input: RecordSnapshotManifestInput,
  settings: ManifestSettings,
  deps: RecordSnapshotManifestDeps,
): Promise<RecordSnapshotManifestOutput> {
  const key = manifestKey(settings.prefix, input.snapshotId);
  const kept = keepExisting(await deps.readExisting(key), input.snapshotId, key);
  if (kept) return describeManifest(settings.bucket, key, kept, 'kept');
  const manifest = await deps.collect(input.snapshotId, deps.now());
  if ((await deps.putIfAbsent(key, manifest)) === 'written') {
    return describeManifest(settings.bucket, key, manifest, 'recorded');
  }
  const raced = keepExisting(await deps.readExisting(key), input.snapshotId, key);
  if (!raced) throw new TransientAwsError(`${key} was reported to exist but cannot be read`);
  return describeManifest(settings.bucket, key, raced, 'kept');
}

/**
 * PutObject with `If-None-Match: *`: S3 answers 412 PreconditionFailed when the key exists
 * ('exists'); 409 ConditionalRequestConflict (a concurrent conditional write) is retried.
 */
export async function putManifestIfAbsent(
  bucket: string,
  key: string,
  manifest: SnapshotManifest,
): Promise<'written' | 'exists'> {
  try {
    await classifyAws(`PutObject s3://${bucket}/${key}`, () =>
      s3Client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: `${JSON.stringify(manifest)}\n`,
          ContentType: 'application/json',
          IfNoneMatch: '*',
        }),
      ),
    );
    return 'written';
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const name = error instanceof Error ? error.name : '';
    if (name === 'PreconditionFailed' || status === 412) return 'exists';
    if (name === 'ConditionalRequestConflict' || status === 409) {
      throw new TransientAwsError(`PutObject s3://${bucket}/${key}: ${name}`, { cause: error });
    }
    throw error;
  }
}

/**
 * Opens the live database, collects the manifest (with the schema, whose db_version is read
 * from `<tablePrefix>options`) and closes the connection. Connection failures become
 * LiveDatabaseError naming the endpoint and the driver's code.
 */
export function collectLiveManifest(
  open: () => Promise<Connection>,
  where: string,
  snapshotId: string,
  createdAt: Date,
  tablePrefix: string,
): Promise<SnapshotManifest> {
  return withLiveDatabase(open, where, (conn) =>
    collectManifest(conn, snapshotId, createdAt, tablePrefix, {
      openMore: open,
      parallelism: LIVE_READERS,
    }),
  );
}
