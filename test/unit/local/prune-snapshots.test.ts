import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pruneSnapshotsOutputSchema } from '#functions/prune-snapshots/schema.ts';
import type { LocalConfig } from '#local/config.ts';
import { listSnapshots, type SnapshotMetadata } from '#local/database.ts';
import { type LocalLedgerRecord, ledgerTable, type StepContext } from '#local/steps/context.ts';
import { pruneSnapshots } from '#local/steps/prune-snapshots.ts';

const SERVICE = 'wordpress';
const DB = 'stepdeploy-wordpress-db';
const PREFIX = 'stepdeploy-release';
let stateDir: string;
const notes: string[] = [];

/** Writes a complete snapshot as local/database.ts does (metadata.json marks it complete). */
async function storeSnapshot(id: string, day: number, tags: Record<string, string>) {
  const dir = join(stateDir, 'snapshots', id);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'dump.sql'), '-- dump\n');
  const meta: SnapshotMetadata = {
    id,
    createdAt: `2026-03-${String(day).padStart(2, '0')}T10:00:00.000Z`,
    sizeBytes: 8,
    source: { name: SERVICE, container: DB, database: 'wordpress' },
    engine: '11.8.3-MariaDB',
    dumpFile: join(dir, 'dump.sql'),
    tables: [],
    tags,
  };
  await writeFile(join(dir, 'metadata.json'), JSON.stringify(meta));
}

const releaseTags = (n: number) => ({
  'stepdeploy:service': SERVICE,
  'stepdeploy:release': `r-${n}`,
});
const record = (n: number, outcome: LocalLedgerRecord['outcome']): LocalLedgerRecord => ({
  service: SERVICE,
  releaseId: `r-${n}`,
  outcome,
  startedAt: `2026-03-${String(n).padStart(2, '0')}T09:00:00.000Z`,
  finishedAt: `2026-03-${String(n).padStart(2, '0')}T10:30:00.000Z`,
  trigger: 'manual',
  startedBy: 'alice',
  source: { type: 'image' },
  snapshotId: `${PREFIX}-r-${n}`,
  ...(outcome === 'SUCCEEDED'
    ? { goodAt: `2026-03-${String(n).padStart(2, '0')}T10:30:00.000Z`, goodTaskDefinitionArn: 'td' }
    : {}),
});

const adapter = () =>
  pruneSnapshots({
    config: { stateDir } as LocalConfig,
    ledger: ledgerTable(stateDir),
    note: (line: string) => notes.push(line),
  } as unknown as StepContext);

const input = {
  service: SERVICE,
  releaseId: 'r-6',
  dbInstanceIdentifier: DB,
  snapshotPrefix: PREFIX,
  currentSnapshotId: `${PREFIX}-r-6`,
  keepNewest: 2,
  keepKnownGood: 1,
};

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'sd-prune-'));
  notes.length = 0;
  for (const n of [1, 2, 3, 4, 5, 6]) await storeSnapshot(`${PREFIX}-r-${n}`, n, releaseTags(n));
  await storeSnapshot('before-upgrade', 1, {});
  const ledger = ledgerTable(stateDir);
  await ledger.put(record(2, 'SUCCEEDED'));
  await ledger.put(record(3, 'ROLLED_BACK'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe('PruneSnapshots (local adapter)', () => {
  it('deletes the snapshot directories beyond the newest and the last known-good', async () => {
    // Act
    const out = pruneSnapshotsOutputSchema.parse(await adapter()(input));
    // Assess
    expect(out.deleted).toEqual([`${PREFIX}-r-4`, `${PREFIX}-r-3`, `${PREFIX}-r-1`]);
    const left = (await listSnapshots(stateDir)).map((m) => m.id).sort();
    expect(left).toEqual(['before-upgrade', `${PREFIX}-r-2`, `${PREFIX}-r-5`, `${PREFIX}-r-6`]);
    expect(notes.join('\n')).toContain(`deleted ${PREFIX}-r-4`);
  });

  it('is idempotent: a second run deletes nothing more', async () => {
    // Prepare
    await adapter()(input);
    // Act
    const again = pruneSnapshotsOutputSchema.parse(await adapter()(input));
    // Assess
    expect(again.deleted).toEqual([]);
    expect(await listSnapshots(stateDir)).toHaveLength(4);
  });

  it('refuses input that breaks the step contract before deleting anything', async () => {
    // Act
    const run = adapter()({ ...input, keepNewest: 0 });
    // Assess
    await expect(run).rejects.toThrow(/keepNewest/);
    expect(await listSnapshots(stateDir)).toHaveLength(7);
  });
});
