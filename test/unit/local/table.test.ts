import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConditionalCheckFailedError, FileTable } from '#local/table.ts';

interface Row {
  service: string;
  releaseId: string;
  status?: string;
  n?: number;
}

describe('FileTable', () => {
  let dir: string;
  let table: FileTable<Row>;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sd-table-'));
    table = new FileTable<Row>(dir, 'ledger', { partitionKey: 'service', sortKey: 'releaseId' });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('puts, gets and queries by partition key in sort-key order', async () => {
    // Prepare
    await table.put({ service: 'wp', releaseId: 'r2' });
    await table.put({ service: 'wp', releaseId: 'r1' });
    await table.put({ service: 'other', releaseId: 'r9' });

    // Act
    const one = await table.get({ service: 'wp', releaseId: 'r2' });
    const asc = await table.query('wp');
    const newest = await table.query('wp', { descending: true, limit: 1 });

    // Assess
    expect(one).toEqual({ service: 'wp', releaseId: 'r2' });
    expect(asc.map((r) => r.releaseId)).toEqual(['r1', 'r2']);
    expect(newest.map((r) => r.releaseId)).toEqual(['r2']);
  });

  it('refuses a conditional put whose condition is false and keeps the old item', async () => {
    // Prepare
    await table.put({ service: 'wp', releaseId: 'r1', status: 'HELD' });

    // Act
    const put = table.put(
      { service: 'wp', releaseId: 'r1', status: 'OTHER' },
      (cur) => cur === undefined,
    );

    // Assess
    await expect(put).rejects.toBeInstanceOf(ConditionalCheckFailedError);
    expect((await table.get({ service: 'wp', releaseId: 'r1' }))?.status).toBe('HELD');
  });

  it('serialises concurrent read-modify-write through the lock file', async () => {
    // Prepare
    await table.put({ service: 'wp', releaseId: 'counter', n: 0 });
    const other = new FileTable<Row>(dir, 'ledger', {
      partitionKey: 'service',
      sortKey: 'releaseId',
    });

    // Act
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? table : other).update({ service: 'wp', releaseId: 'counter' }, (cur) => ({
          service: 'wp',
          releaseId: 'counter',
          n: (cur?.n ?? 0) + 1,
        })),
      ),
    );

    // Assess
    expect((await table.get({ service: 'wp', releaseId: 'counter' }))?.n).toBe(40);
  });

  it('deletes, conditionally too', async () => {
    // Prepare
    await table.put({ service: 'wp', releaseId: 'r1', status: 'A' });

    // Act
    const refused = table.delete({ service: 'wp', releaseId: 'r1' }, (cur) => cur?.status === 'B');
    await expect(refused).rejects.toBeInstanceOf(ConditionalCheckFailedError);
    await table.delete({ service: 'wp', releaseId: 'r1' }, (cur) => cur?.status === 'A');

    // Assess
    expect(await table.get({ service: 'wp', releaseId: 'r1' })).toBeUndefined();
  });
});
