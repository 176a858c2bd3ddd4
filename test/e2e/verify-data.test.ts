/**
 * VerifyData against a real MariaDB holding a WordPress database (WordPress's own schema plus
 * generated content): a clean restore passes; each corruption is caught and named.
 */
import type { Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chunkBoundaries,
  chunkConditions,
  chunkQuery,
  contentStats,
  readLayouts,
  type TableLayout,
  withReaders,
} from '#commons/table-content.ts';
import type { SnapshotManifest } from '#commons/verify-data-checks.ts';
import { connectDatabase, tableStats } from '#commons/verify-data-sql.ts';
import { DataVerificationError, ScratchUnreachableError } from '#commons/verify-errors.ts';
import { collectManifest } from '#commons/verify-manifest.ts';
import { verifyData } from '#functions/verify-data/verify-data.ts';
import { SMALL_SITE, seedWordPress } from '#testkit/wordpress-content.ts';
import {
  connectFixture,
  copySchema,
  type FixtureServer,
  startFixtureServer,
} from './fixtures/verify/mariadb.ts';

const SNAPSHOT = 'stepdeploy-e2e-snapshot-1';
const settings = { tablePrefix: 'wp_', rowCountTolerance: 0.1 };

let server: FixtureServer;
let admin: Connection;
let manifest: SnapshotManifest;

/** Runs VerifyData on schema `db` as the restored copy, `wp_source` as live. */
function verifyCopy(db: string, withManifest: SnapshotManifest | null = manifest) {
  return verifyData(SNAPSHOT, settings, {
    openScratch: () => connectDatabase(server.endpoint(db)),
    openLive: () => connectDatabase(server.endpoint('wp_source')),
    loadManifest: async (id) => (withManifest && id === SNAPSHOT ? withManifest : undefined),
  });
}

/** `CHECKSUM TABLE` of one table of schema `db`, as a decimal string. */
async function checksumTable(db: string, table: string): Promise<string | null> {
  const conn = await connectFixture(server, db);
  const stats = await tableStats(conn, [table]);
  await conn.end();
  return stats[table]?.checksum ?? null;
}

async function failuresOf(promise: Promise<unknown>): Promise<readonly string[]> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DataVerificationError);
  return (error as DataVerificationError).failures;
}

beforeAll(async () => {
  server = await startFixtureServer('stepdeploy-verify-e2e');
  admin = await connectFixture(server, 'mysql');
  await admin.query('CREATE DATABASE wp_source');
  const source = await connectFixture(server, 'wp_source');
  await seedWordPress(source, SMALL_SITE);
  manifest = await collectManifest(source, SNAPSHOT);
  await source.end();
});

afterAll(async () => {
  await admin?.end();
  await server?.stop();
});

describe('VerifyData against a real MariaDB', () => {
  it('records a manifest of every core table with real counts and checksums', () => {
    // Prepare / Act: the manifest taken in beforeAll
    // Assess
    expect(Object.keys(manifest.tables)).toHaveLength(12);
    expect(manifest.tables.wp_posts?.rows).toBe(SMALL_SITE.posts);
    expect(manifest.tables.wp_comments?.rows).toBe(SMALL_SITE.posts * SMALL_SITE.commentsPerPost);
    expect(manifest.tables.wp_options?.checksum).toMatch(/^[1-9][0-9]*$/);
    expect(manifest.checksumMethod).toBe('row-crc32');
  });

  it('reads a table in key-range chunks that add up to one whole read', async () => {
    // Prepare: wp_posts split into 7 ranges of its real key span
    const conn = await connectFixture(server, 'wp_source');
    const [layout] = await readLayouts(conn, ['wp_posts']);
    const [[range]] = (await conn.query('SELECT MIN(ID) AS lo, MAX(ID) AS hi FROM wp_posts')) as [
      { lo: string; hi: string }[],
      unknown,
    ];
    const boundaries = chunkBoundaries(BigInt(range?.lo ?? 0), BigInt(range?.hi ?? 0), 7);
    const read = async (condition: string) => {
      const [[row]] = (await conn.query(chunkQuery(layout as TableLayout, condition))) as [
        { n: string; s: string }[],
        unknown,
      ];
      return { rows: BigInt(row?.n ?? -1), sum: BigInt(row?.s ?? -1) };
    };
    // Act
    const whole = await read('');
    const parts = await Promise.all(chunkConditions('ID', boundaries).map(read));
    await conn.end();
    // Assess
    expect(layout?.chunkKey).toBe('ID');
    expect(boundaries).toHaveLength(6);
    expect(whole.rows).toBe(BigInt(SMALL_SITE.posts));
    expect(parts.filter((p) => p.rows > 0n)).toHaveLength(7);
    expect(parts.reduce((a, p) => a + p.rows, 0n)).toBe(whole.rows);
    expect(parts.reduce((a, p) => a + p.sum, 0n)).toBe(whole.sum);
    expect(manifest.tables.wp_posts?.checksum).toBe(whole.sum.toString());
  });

  it('reads TIMESTAMP columns alike whatever time zone the server or session is in', async () => {
    // Prepare: the same row read in a session at UTC and in one at +05:30
    await admin.query('CREATE DATABASE zones');
    await admin.query('CREATE TABLE zones.t (id INT PRIMARY KEY, at TIMESTAMP NULL)');
    await admin.query("INSERT INTO zones.t VALUES (1, '2026-12-07 03:00:00')");
    const utc = await connectFixture(server, 'zones');
    const india = await connectFixture(server, 'zones');
    await india.query("SET time_zone = '+05:30'");
    // Act
    const [inUtc, inIndia] = [await contentStats([utc], ['t']), await contentStats([india], ['t'])];
    await Promise.all([utc.end(), india.end()]);
    // Assess
    expect(inIndia).toEqual(inUtc);
  });

  it('gets the same counts and checksums over eight connections as over one', async () => {
    // Prepare
    const conn = await connectFixture(server, 'wp_source');
    const tables = Object.keys(manifest.tables);
    // Act
    const alone = await contentStats([conn], tables);
    const shared = await withReaders(
      conn,
      { openMore: () => connectFixture(server, 'wp_source'), parallelism: 8 },
      (readers) => contentStats(readers, tables),
    );
    await conn.end();
    // Assess
    expect(shared).toEqual(alone);
    expect(alone).toEqual(manifest.tables);
  });

  it('tells NULL from an empty string and a value from its neighbour', async () => {
    // Prepare: one-row tables that would read alike if the row's text were joined naively
    await admin.query('CREATE DATABASE nulls');
    const rows = [
      "(1, 'x', NULL)",
      "(1, NULL, 'x')",
      "(1, 'x', '')",
      "(1, 'a#', 'b')",
      "(1, 'a', '#b')",
    ];
    for (const [i, row] of rows.entries()) {
      await admin.query(
        `CREATE TABLE nulls.t${i} (id INT PRIMARY KEY, a VARCHAR(8), b VARCHAR(8))`,
      );
      await admin.query(`INSERT INTO nulls.t${i} VALUES ${row}`);
    }
    const conn = await connectFixture(server, 'nulls');
    // Act
    const stats = await contentStats(
      [conn],
      rows.map((_, i) => `t${i}`),
    );
    await conn.end();
    // Assess
    const sums = Object.values(stats).map((s) => s.checksum);
    expect(new Set(sums).size).toBe(rows.length);
  });

  it('still verifies against a manifest of CHECKSUM TABLE values (recorded before row-crc32)', async () => {
    // Prepare: the manifest as it was recorded before it named its method
    const source = await connectFixture(server, 'wp_source');
    const older: SnapshotManifest = {
      snapshotId: SNAPSHOT,
      createdAt: manifest.createdAt,
      tables: await tableStats(source, Object.keys(manifest.tables)),
    };
    await source.end();
    await copySchema(admin, 'wp_source', 'restore_older');
    await copySchema(admin, 'wp_source', 'restore_older_changed');
    await admin.query(
      "UPDATE restore_older_changed.wp_options SET option_value = 'defaced' WHERE option_name = 'blogname'",
    );
    // Act
    const clean = await verifyCopy('restore_older', older);
    const failures = await failuresOf(verifyCopy('restore_older_changed', older));
    // Assess
    expect(clean).toMatchObject({ passed: true, mode: 'manifest' });
    expect(failures).toEqual([
      `ChecksumMismatch:wp_options expected ${older.tables.wp_options?.checksum} got ${
        (await checksumTable('restore_older_changed', 'wp_options')) ?? 'null'
      }`,
    ]);
  });

  it('passes a clean copy against the manifest', async () => {
    // Prepare
    await copySchema(admin, 'wp_source', 'restore_clean');
    // Act
    const verdict = await verifyCopy('restore_clean');
    // Assess
    expect(verdict).toMatchObject({ passed: true, mode: 'manifest', failures: [] });
    expect(verdict.checkedTables).toHaveLength(12);
  });

  it('names a dropped table', async () => {
    // Prepare
    await copySchema(admin, 'wp_source', 'restore_dropped');
    await admin.query('DROP TABLE restore_dropped.wp_postmeta');
    // Act
    const failures = await failuresOf(verifyCopy('restore_dropped'));
    // Assess
    expect(failures).toEqual(['MissingTable:wp_postmeta']);
  });

  it('names a truncated table with expected and observed counts', async () => {
    // Prepare
    await copySchema(admin, 'wp_source', 'restore_truncated');
    await admin.query('TRUNCATE TABLE restore_truncated.wp_comments');
    // Act
    const failures = await failuresOf(verifyCopy('restore_truncated'));
    // Assess
    expect(failures).toEqual([
      `RowCountMismatch:wp_comments expected ${SMALL_SITE.posts * SMALL_SITE.commentsPerPost} got 0`,
    ]);
  });

  it('names a changed row by its checksum', async () => {
    // Prepare
    await copySchema(admin, 'wp_source', 'restore_changed');
    await admin.query(
      "UPDATE restore_changed.wp_options SET option_value = 'defaced' WHERE option_name = 'blogname'",
    );
    // Act
    const failures = await failuresOf(verifyCopy('restore_changed'));
    // Assess
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^ChecksumMismatch:wp_options expected \d+ got \d+$/);
  });

  it('names a manifest recorded for another snapshot and the tables it disagrees on', async () => {
    // Prepare: a later manifest (two more posts) that claims a different snapshot
    await copySchema(admin, 'wp_source', 'restore_later');
    await admin.query(
      "INSERT INTO restore_later.wp_posts (post_content, post_title, post_excerpt, to_ping, pinged, post_content_filtered) VALUES ('a','b','','','',''), ('c','d','','','','')",
    );
    const later = await connectFixture(server, 'restore_later');
    const other = await collectManifest(later, 'stepdeploy-e2e-snapshot-2');
    await later.end();
    await copySchema(admin, 'wp_source', 'restore_mismatch');
    // Act
    const failures = await failuresOf(verifyCopy('restore_mismatch', other));
    // Assess
    expect(failures).toEqual([
      `ManifestMismatch manifest is for stepdeploy-e2e-snapshot-2, not ${SNAPSHOT}`,
      `RowCountMismatch:wp_posts expected ${SMALL_SITE.posts + 2} got ${SMALL_SITE.posts}`,
    ]);
  });

  it('without a manifest, passes a copy whose row counts are within tolerance of live', async () => {
    // Prepare
    await copySchema(admin, 'wp_source', 'restore_nomanifest');
    await admin.query('DELETE FROM restore_nomanifest.wp_posts WHERE ID = 1');
    // Act
    const verdict = await verifyCopy('restore_nomanifest', null);
    // Assess
    expect(verdict).toMatchObject({ passed: true, mode: 'live' });
  });

  it('without a manifest, names a table whose row count is far from live', async () => {
    // Prepare
    await copySchema(admin, 'wp_source', 'restore_nomanifest_truncated');
    await admin.query('TRUNCATE TABLE restore_nomanifest_truncated.wp_posts');
    // Act
    const failures = await failuresOf(verifyCopy('restore_nomanifest_truncated', null));
    // Assess
    expect(failures).toEqual([
      `RowCountOutOfTolerance:wp_posts live ${SMALL_SITE.posts} got 0 (tolerance 10%)`,
    ]);
  });

  it('names a corrupt table file found by CHECK TABLE', async () => {
    // Prepare: a MyISAM plugin table recorded in the manifest, whose index file is then damaged
    await copySchema(admin, 'wp_source', 'restore_corrupt');
    await admin.query(
      'CREATE TABLE restore_corrupt.wp_plugin_log (id INT PRIMARY KEY, note VARCHAR(40)) ENGINE=MyISAM',
    );
    await admin.query("INSERT INTO restore_corrupt.wp_plugin_log VALUES (1,'a'),(2,'b'),(3,'c')");
    const corruptDb = await connectFixture(server, 'restore_corrupt');
    const withPlugin = await collectManifest(corruptDb, SNAPSHOT);
    await admin.query('FLUSH TABLES restore_corrupt.wp_plugin_log');
    await server.exec([
      'sh',
      '-c',
      'printf "garbagegarbagegarbage" | dd of=/tmp/data/restore_corrupt/wp_plugin_log.MYI bs=1 seek=0 conv=notrunc status=none',
    ]);
    await admin.query('FLUSH TABLES restore_corrupt.wp_plugin_log');
    await corruptDb.end();
    // Act
    const failures = await failuresOf(verifyCopy('restore_corrupt', withPlugin));
    // Assess
    expect(failures.some((f) => f.startsWith('CheckTableFailed:wp_plugin_log'))).toBe(true);
  });

  it('reports an unreachable scratch database by name', async () => {
    // Prepare
    const wrong = { ...server.endpoint('restore_clean'), password: 'not-the-password' };
    // Act
    const error = await verifyData(SNAPSHOT, settings, {
      openScratch: () => connectDatabase(wrong),
      openLive: () => connectDatabase(server.endpoint('wp_source')),
      loadManifest: async () => manifest,
    }).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(ScratchUnreachableError);
    expect((error as Error).message).not.toContain('not-the-password');
  });
});
