import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecordSnapshotManifestOutputSchema } from '#functions/record-snapshot-manifest/schema.ts';
import type { LocalConfig } from '#local/config.ts';
import { describeSnapshot, type SnapshotMetadata } from '#local/database.ts';
import {
  localManifestPath,
  recordSnapshotManifest,
} from '#local/steps/record-snapshot-manifest.ts';
import { asNestedExecution, NestedExecutionFailed } from '#local/steps/verify-backup.ts';
import { manifestFromMetadata } from '#local/verify-restore.ts';

let stateDir: string;
const notes: string[] = [];
const adapter = () =>
  recordSnapshotManifest({
    config: { stateDir } as LocalConfig,
    note: (line) => notes.push(line),
  });

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'sd-manifest-'));
  notes.length = 0;
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe('RecordSnapshotManifest (local adapter)', () => {
  it('points at the metadata.json the snapshot will record under its read lock', async () => {
    // Prepare
    const record = adapter();
    // Act
    const out = await record({ snapshotId: 'stepdeploy-release-r-1' });
    // Assess
    expect(RecordSnapshotManifestOutputSchema.parse(out)).toEqual({
      snapshotId: 'stepdeploy-release-r-1',
      location: join(stateDir, 'snapshots', 'stepdeploy-release-r-1', 'metadata.json'),
      consistency: 'with-snapshot',
      state: 'with-snapshot',
    });
  });

  it('reports the manifest a snapshot already holds, where local verify-backup reads it', async () => {
    // Prepare: a complete snapshot as local/database.ts writes it
    const id = 'stepdeploy-release-r-2';
    const meta: SnapshotMetadata = {
      id,
      createdAt: '2026-02-01T10:00:00.000Z',
      sizeBytes: 1234,
      source: { name: 'wordpress', container: 'stepdeploy-wordpress', database: 'wordpress' },
      engine: '11.8.3-MariaDB',
      dumpFile: join(stateDir, 'snapshots', id, 'dump.sql'),
      tables: [
        { table: 'wp_options', rows: 150, checksum: '1234567890123456789' },
        { table: 'wp_posts', rows: 12, checksum: '42' },
      ],
    };
    await mkdir(join(stateDir, 'snapshots', id), { recursive: true });
    await writeFile(localManifestPath(stateDir, id), JSON.stringify(meta));
    // Act
    const out = await adapter()({ snapshotId: id });
    const read = await describeSnapshot(stateDir, id);
    // Assess
    expect(out).toMatchObject({ state: 'kept', tables: 2, createdAt: meta.createdAt });
    expect(read && manifestFromMetadata(read)).toEqual({
      snapshotId: id,
      createdAt: meta.createdAt,
      tables: {
        wp_options: { rows: 150, checksum: '1234567890123456789' },
        wp_posts: { rows: 12, checksum: '42' },
      },
    });
    expect(notes.join('\n')).toMatch(/already holds its manifest \(2 tables\)/);
  });

  it('refuses an id that is not an RDS snapshot identifier, as the Lambda does', async () => {
    // Prepare
    const record = adapter();
    // Act / Assess
    await expect(record({ snapshotId: '../../etc' })).rejects.toThrow(
      /snapshotId must be an RDS snapshot identifier/,
    );
  });
});

describe('VerifyBackup (local adapter) answers as startExecution.sync:2', () => {
  const started = new Date('2026-02-01T10:00:00.000Z');
  const stopped = new Date('2026-02-01T10:03:00.000Z');

  it('a passed verification: the DescribeExecution shape, SUCCEEDED', () => {
    // Prepare / Act
    const out = asNestedExecution(
      {
        executionName: 'verify-1',
        outcome: 'PASSED',
        snapshotId: 's-1',
        failedCheck: null,
        error: null,
        reason: null,
      },
      started,
      stopped,
    );
    // Assess
    expect(out).toMatchObject({
      ExecutionArn: expect.stringMatching(/:execution:local-verify-restore:verify-1$/),
      Status: 'SUCCEEDED',
      StartDate: started.toISOString(),
      StopDate: stopped.toISOString(),
    });
  });

  it('a failed verification: States.TaskFailed whose Cause names the nested error and check', () => {
    // Prepare
    const failed = () =>
      asNestedExecution(
        {
          executionName: 'verify-2',
          outcome: 'FAILED',
          snapshotId: 's-1',
          failedCheck: 'VerifyData',
          error: 'DataVerificationError',
          reason: 'data checks failed: RowCountMismatch:wp_posts expected 12 got 0',
        },
        started,
        stopped,
      );
    // Act
    let error: unknown;
    try {
      failed();
    } catch (e) {
      error = e;
    }
    // Assess
    expect(error).toBeInstanceOf(NestedExecutionFailed);
    expect((error as Error).name).toBe('States.TaskFailed');
    expect(JSON.parse((error as Error).message)).toMatchObject({
      ExecutionArn: expect.stringContaining('verify-2'),
      Status: 'FAILED',
      Error: 'DataVerificationError',
      Cause:
        'backup verification failed at VerifyData: data checks failed: RowCountMismatch:wp_posts expected 12 got 0',
    });
  });
});
