/**
 * Restore bench: for several sizes of generated WordPress content, the time of a plain local
 * restore (snapshot → scratch MariaDB container accepting logins) against restore + VerifyData
 * (CHECK TABLE, row counts, content checksums against the snapshot's manifest, read over
 * SCRATCH_READERS connections), so the
 * verification overhead is a ratio. Real containers on 127.0.0.1 only.
 *
 * Usage: npx tsx bench/restore.ts [--sizes 10,100,1000] (megabytes; default 10,100)
 * Writes bench/results/restore.json.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Connection } from 'mysql2/promise';
import { planChunks, runJobs, SCRATCH_READERS, withReaders } from '#commons/table-content.ts';
import { connectDatabase, listTables, quoteIdentifier } from '#commons/verify-data-sql.ts';
import { verifyData } from '#functions/verify-data/verify-data.ts';
import {
  type DatabaseHandle,
  databaseEndpoint,
  removeDatabase,
  restoreSnapshot,
  snapshotDatabase,
  startDatabase,
} from '#local/database.ts';
import { freeLoopbackPort } from '#local/verify-backup.ts';
import { manifestFromMetadata } from '#local/verify-restore.ts';
import { seedWordPress, sizeForMegabytes } from '#testkit/wordpress-content.ts';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { sizes: { type: 'string', default: '10,100' } } });
const sizes = (values.sizes ?? '10,100').split(',').map((s) => Number(s.trim()));
if (sizes.some((n) => !Number.isFinite(n) || n <= 0)) {
  throw new Error(`--sizes must be positive megabytes, got ${values.sizes}`);
}

/**
 * One full read of every row and column of the restored database, in the chunks VerifyData
 * reads and over as many connections (SCRATCH_READERS), computing nothing but lengths: the
 * floor of any check that proves the content at that parallelism (InnoDB reads through a
 * 128 MB buffer pool with O_DIRECT, so a table larger than the pool comes from disk, as a
 * restored RDS volume does on first read).
 */
async function readEverything(open: () => Promise<Connection>): Promise<void> {
  const conn = await open();
  try {
    await withReaders(conn, { openMore: open, parallelism: SCRATCH_READERS }, async (readers) => {
      const chunks = await planChunks(readers, await listTables(conn));
      await runJobs(
        readers,
        chunks.map(({ layout, condition }) => async (reader: Connection) => {
          const lengths = layout.columns
            .map((c) => `IFNULL(LENGTH(${quoteIdentifier(c)}), 0)`)
            .join(' + ');
          const where = condition ? ` ${condition}` : '';
          await reader.query(
            `SELECT COUNT(*), SUM(${lengths}) FROM ${quoteIdentifier(layout.table)}${where}`,
          );
        }),
      );
    });
  } finally {
    await conn.end();
  }
}

async function timed<T>(run: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const value = await run();
  return [(performance.now() - start) / 1000, value];
}

interface Row {
  sizeMb: number;
  dumpBytes: number;
  posts: number;
  /** A plain restore in a run of its own. */
  restoreSeconds: number;
  /** The restore of the scratch that is then verified (the restore + verify run's first part). */
  scratchRestoreSeconds: number;
  restoreAndVerifySeconds: number;
  verifySeconds: number;
  /** One full read of the restored data (VerifyData's chunks and readers), after the verification, on the same scratch. */
  readSeconds: number;
  ratio: number;
}

const rows: Row[] = [];
const stateDir = await mkdtemp(join(tmpdir(), 'stepdeploy-bench-restore-'));
const handles: DatabaseHandle[] = [];
try {
  for (const sizeMb of sizes) {
    const size = sizeForMegabytes(sizeMb);
    const source = await startDatabase({
      name: `bench-src-${sizeMb}`,
      port: await freeLoopbackPort(),
      stateDir,
      service: 'bench',
    });
    handles.push(source);
    const conn = await connectDatabase(await databaseEndpoint(source), {
      multipleStatements: true,
    });
    await seedWordPress(conn, size);
    await conn.end();
    const snapshot = await snapshotDatabase(source, `bench-${sizeMb}mb`);

    const [restoreSeconds, plain] = await timed(async () =>
      restoreSnapshot(snapshot.id, {
        name: `bench-plain-${sizeMb}`,
        port: await freeLoopbackPort(),
        stateDir,
      }),
    );
    await removeDatabase(plain);

    // The scratch is removed after the clock stops: its one full read is timed on its own.
    const started = performance.now();
    const scratch = await restoreSnapshot(snapshot.id, {
      name: `bench-verify-${sizeMb}`,
      port: await freeLoopbackPort(),
      stateDir,
    });
    // The restore this verification verifies: a plain restore, timed in the same run.
    const scratchRestoreSeconds = (performance.now() - started) / 1000;
    let verifySeconds: number;
    let restoreAndVerifySeconds: number;
    let readSeconds: number;
    try {
      [verifySeconds] = await timed(() =>
        verifyData(
          snapshot.id,
          { tablePrefix: 'wp_', rowCountTolerance: 0.1 },
          {
            openScratch: async () => connectDatabase(await databaseEndpoint(scratch)),
            openLive: async () => connectDatabase(await databaseEndpoint(source)),
            loadManifest: async () => manifestFromMetadata(snapshot),
          },
        ),
      );
      restoreAndVerifySeconds = (performance.now() - started) / 1000;
      const endpoint = await databaseEndpoint(scratch);
      [readSeconds] = await timed(() => readEverything(() => connectDatabase(endpoint)));
    } finally {
      await removeDatabase(scratch);
    }
    await removeDatabase(source);
    handles.splice(handles.indexOf(source), 1);
    const row: Row = {
      sizeMb,
      dumpBytes: snapshot.sizeBytes,
      posts: size.posts,
      restoreSeconds: Number(restoreSeconds.toFixed(2)),
      scratchRestoreSeconds: Number(scratchRestoreSeconds.toFixed(2)),
      restoreAndVerifySeconds: Number(restoreAndVerifySeconds.toFixed(2)),
      verifySeconds: Number(verifySeconds.toFixed(2)),
      readSeconds: Number(readSeconds.toFixed(2)),
      ratio: Number((restoreAndVerifySeconds / scratchRestoreSeconds).toFixed(3)),
    };
    rows.push(row);
    console.log(
      `${sizeMb} MB (dump ${(row.dumpBytes / 1e6).toFixed(1)} MB): restore ${row.restoreSeconds}s, ` +
        `restore+verify ${row.restoreAndVerifySeconds}s (its restore ${row.scratchRestoreSeconds}s, verify ${row.verifySeconds}s, one full read ${row.readSeconds}s), ratio ${row.ratio}`,
    );
  }
} finally {
  for (const handle of handles) await removeDatabase(handle).catch(() => undefined);
  await rm(stateDir, { recursive: true, force: true });
}

await mkdir(join(here, 'results'), { recursive: true });
await writeFile(
  join(here, 'results', 'restore.json'),
  `${JSON.stringify({ measuredAt: new Date().toISOString(), host: process.platform, rows }, null, 2)}\n`,
);
console.log('wrote bench/results/restore.json');
