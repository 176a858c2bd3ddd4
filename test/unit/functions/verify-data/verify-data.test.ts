import { describe, expect, it } from 'vitest';
import {
  coreTables,
  type DataVerdict,
  type SnapshotManifest,
} from '#commons/verify-data-checks.ts';
import { DataVerificationError } from '#commons/verify-errors.ts';
import { dataOutcome, verifyData } from '#functions/verify-data/verify-data.ts';
import { type FakeTable, fakeConnection } from '../fake-mysql.ts';

const SNAPSHOT = 'rds:stepdeploy-wordpress-2026-02-01-03-10';
const CONNECTED_AT = '2026-02-01T06:31:02.000Z';
const TABLES = coreTables('wp_');

describe('dataOutcome (what VerifyData hands the ASL)', () => {
  it.each<{ name: string; verdict: DataVerdict }>([
    {
      name: 'against the manifest',
      verdict: { passed: true, mode: 'manifest', checkedTables: TABLES, failures: [] },
    },
    {
      name: 'against the live database',
      verdict: { passed: true, mode: 'live', checkedTables: TABLES, failures: [] },
    },
  ])('a passing verdict $name is returned as it is, with connectedAt', ({ verdict }) => {
    // Prepare / Act
    const out = dataOutcome(verdict, CONNECTED_AT);
    // Assess
    expect(out).toEqual({ ...verdict, checkedTables: TABLES, connectedAt: CONNECTED_AT });
  });

  it.each<{ name: string; failures: string[] }>([
    { name: 'one failed check', failures: ['MissingTable:wp_postmeta'] },
    {
      name: 'several failed checks',
      failures: [
        'RowCountMismatch:wp_posts expected 12 got 0',
        'CheckTableFailed:wp_options crashed',
      ],
    },
  ])(
    '$name: throws DataVerificationError naming each (the ASL reads no `passed`)',
    ({ failures }) => {
      // Prepare
      const verdict: DataVerdict = {
        passed: false,
        mode: 'manifest',
        checkedTables: TABLES,
        failures,
      };
      // Act
      const act = () => dataOutcome(verdict, CONNECTED_AT);
      // Assess
      expect(act).toThrow(DataVerificationError);
      expect(act).toThrow(`data checks failed: ${failures.join('; ')}`);
    },
  );

  it('refuses a verdict that says passed while it lists failures', () => {
    // Prepare
    const verdict: DataVerdict = {
      passed: true,
      mode: 'manifest',
      checkedTables: TABLES,
      failures: ['MissingTable:wp_links'],
    };
    // Act / Assess
    expect(() => dataOutcome(verdict, CONNECTED_AT)).toThrow(/failures/);
  });
});

describe('verifyData on fake connections', () => {
  const restored = (rows: Partial<Record<string, number>> = {}): Record<string, FakeTable> =>
    Object.fromEntries(TABLES.map((t) => [t, { columns: ['id'], rows: rows[t] ?? 3 }]));
  const manifest: SnapshotManifest = {
    snapshotId: SNAPSHOT,
    createdAt: '2026-02-01T03:10:00.000Z',
    tables: Object.fromEntries(TABLES.map((t) => [t, { rows: 3, checksum: '42' }])),
  };
  const settings = { tablePrefix: 'wp_', rowCountTolerance: 0.1 };

  it('returns the checks’ passing verdict and closes the scratch connection', async () => {
    // Prepare
    const scratch = fakeConnection(restored());
    // Act
    const out = await verifyData(SNAPSHOT, settings, {
      openScratch: async () => scratch,
      openLive: () => Promise.reject(new Error('live must not be read with a manifest')),
      loadManifest: async () => manifest,
    });
    // Assess
    expect(out).toMatchObject({
      passed: true,
      mode: 'manifest',
      checkedTables: [...TABLES].sort(),
      failures: [],
    });
    expect(Date.parse(out.connectedAt)).not.toBeNaN();
    expect(scratch.sent.some((sql) => sql.startsWith('CHECK TABLE'))).toBe(true);
    expect(scratch.ended).toBe(true);
  });

  it('throws the failed check instead of returning a verdict', async () => {
    // Prepare
    const scratch = fakeConnection(restored({ wp_posts: 0 }));
    // Act
    const run = verifyData(SNAPSHOT, settings, {
      openScratch: async () => scratch,
      openLive: () => Promise.reject(new Error('unused')),
      loadManifest: async () => manifest,
    });
    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'DataVerificationError',
      failures: ['RowCountMismatch:wp_posts expected 3 got 0'],
    });
  });
});
