import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatabaseSchema } from '#commons/wordpress-schema.ts';
import { CompareSchemaOutputSchema } from '#functions/compare-schema/schema.ts';
import type { LocalConfig } from '#local/config.ts';
import type { DatabaseHandle, SnapshotMetadata } from '#local/database.ts';
import { compareSchema } from '#local/steps/compare-schema.ts';
import { manifestFromMetadata } from '#local/verify-restore.ts';

let stateDir: string;
const notes: string[] = [];
const SNAPSHOT = 'stepdeploy-release-local-1';
const found: DatabaseSchema = {
  dbVersion: '60421',
  tables: { wp_options: ['option_id', 'option_name', 'option_value'], wp_posts: ['ID'] },
};
const database = { container: 'stepdeploy-e2e-db', database: 'wordpress' } as DatabaseHandle;

/** A complete local snapshot as local/database.ts writes it, with or without its schema. */
async function snapshotWith(schema?: DatabaseSchema): Promise<SnapshotMetadata> {
  const meta: SnapshotMetadata = {
    id: SNAPSHOT,
    createdAt: '2026-02-01T10:00:00.000Z',
    sizeBytes: 1234,
    source: { name: 'e2e', container: 'stepdeploy-e2e-db', database: 'wordpress' },
    engine: '11.8.3-MariaDB',
    dumpFile: join(stateDir, 'snapshots', SNAPSHOT, 'dump.sql'),
    tables: [{ table: 'wp_options', rows: 150, checksum: '1' }],
    ...(schema ? { schema } : {}),
  };
  await mkdir(join(stateDir, 'snapshots', SNAPSHOT), { recursive: true });
  await writeFile(join(stateDir, 'snapshots', SNAPSHOT, 'metadata.json'), JSON.stringify(meta));
  return meta;
}

const adapter = (live: DatabaseSchema, seen: string[] = []) =>
  compareSchema(
    { config: { stateDir } as LocalConfig, database, note: (line) => notes.push(line) },
    async (db, prefix) => {
      seen.push(`${db.container} ${prefix}`);
      return live;
    },
  );

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'sd-compare-'));
  notes.length = 0;
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe('CompareSchema (local adapter)', () => {
  it('compares the live schema with the one the snapshot recorded under its read lock', async () => {
    // Prepare
    await snapshotWith(found);
    const seen: string[] = [];
    const live = { ...found, tables: { ...found.tables, wp_shop_log: ['id'] } };
    // Act
    const out = CompareSchemaOutputSchema.parse(
      await adapter(live, seen)({ snapshotId: SNAPSHOT, outcome: 'ROLLED_BACK' }),
    );
    // Assess
    expect(seen).toEqual(['stepdeploy-e2e-db wp_']);
    expect(out).toMatchObject({
      status: 'READ',
      before: { dbVersion: '60421', tables: 2 },
      after: { dbVersion: '60421', tables: 3 },
      change: { tablesAdded: ['wp_shop_log'] },
    });
    expect(out.note).toBe(
      ` The code was rolled back but the schema was not: db_version 60421 unchanged; tables added: wp_shop_log; restore the pre-release snapshot ${SNAPSHOT} to undo it.`,
    );
    expect(notes).toEqual([`CompareSchema: changed since ${SNAPSHOT}`]);
  });

  it('a snapshot taken before snapshots recorded the schema has no baseline', async () => {
    // Prepare
    await snapshotWith();
    // Act
    const out = await adapter(found)({ snapshotId: SNAPSHOT, outcome: 'SUCCEEDED' });
    // Assess
    expect(out).toMatchObject({ status: 'NO_BASELINE', note: '' });
  });

  it('refuses input the Lambda refuses', async () => {
    // Prepare / Act / Assess
    await expect(adapter(found)({ snapshotId: SNAPSHOT, outcome: 'REJECTED' })).rejects.toThrow(
      /outcome/,
    );
  });
});

describe('manifestFromMetadata', () => {
  it('carries the schema into the manifest VerifyData and CompareSchema read', async () => {
    // Prepare
    const meta = await snapshotWith(found);
    // Act
    const manifest = manifestFromMetadata(meta);
    // Assess
    expect(manifest).toEqual({
      snapshotId: SNAPSHOT,
      createdAt: '2026-02-01T10:00:00.000Z',
      tables: { wp_options: { rows: 150, checksum: '1' } },
      schema: found,
    });
  });
});
