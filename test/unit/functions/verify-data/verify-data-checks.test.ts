import { describe, expect, it } from 'vitest';
import {
  coreTables,
  evaluateAgainstLive,
  evaluateAgainstManifest,
  formatFailure,
  type ObservedDatabase,
  type SnapshotManifest,
  type TableStat,
  tablesToInspect,
  withinTolerance,
} from '#commons/verify-data-checks.ts';

const TABLES = coreTables('wp_');

function stats(overrides: Record<string, TableStat | undefined> = {}): Record<string, TableStat> {
  const out: Record<string, TableStat> = {};
  TABLES.forEach((t, i) => {
    out[t] = { rows: 10 + i, checksum: String(1000 + i) };
  });
  for (const [name, stat] of Object.entries(overrides)) {
    if (stat) out[name] = stat;
    else delete out[name];
  }
  return out;
}

const manifest: SnapshotManifest = {
  snapshotId: 'snap-1',
  createdAt: '2025-01-01T00:00:00.000Z',
  tables: stats(),
};

function observed(
  tableStats: Record<string, TableStat>,
  failedChecks: Record<string, string> = {},
): ObservedDatabase {
  const checks: ObservedDatabase['checks'] = Object.fromEntries(
    Object.keys(tableStats).map((t) => [
      t,
      failedChecks[t] ? { ok: false, message: failedChecks[t] } : { ok: true, message: 'OK' },
    ]),
  );
  return { tables: Object.keys(tableStats), stats: tableStats, checks };
}

describe('evaluateAgainstManifest', () => {
  const cases: {
    name: string;
    snapshotId?: string;
    manifest?: SnapshotManifest;
    observed: ObservedDatabase;
    failures: string[];
  }[] = [
    { name: 'identical restore passes', observed: observed(stats()), failures: [] },
    {
      name: 'missing table',
      observed: observed(stats({ wp_posts: undefined })),
      failures: ['MissingTable:wp_posts'],
    },
    {
      name: 'truncated table',
      observed: observed(stats({ wp_posts: { rows: 0, checksum: '0' } })),
      failures: [`RowCountMismatch:wp_posts expected ${manifest.tables.wp_posts?.rows} got 0`],
    },
    {
      name: 'changed row: same count, other checksum',
      observed: observed(stats({ wp_options: { rows: 10, checksum: '42' } })),
      failures: ['ChecksumMismatch:wp_options expected 1000 got 42'],
    },
    {
      name: 'CHECK TABLE failure',
      observed: observed(stats(), { wp_comments: 'Table is marked as crashed' }),
      failures: ['CheckTableFailed:wp_comments Table is marked as crashed'],
    },
    {
      name: 'manifest of another snapshot',
      snapshotId: 'snap-2',
      observed: observed(stats()),
      failures: ['ManifestMismatch manifest is for snap-1, not snap-2'],
    },
    {
      name: 'manifest missing a core table',
      manifest: { ...manifest, tables: stats({ wp_links: undefined }) },
      observed: observed(stats()),
      failures: ['ManifestMismatch:wp_links not recorded in the manifest'],
    },
    {
      name: 'plugin table recorded in the manifest but not restored',
      manifest: { ...manifest, tables: { ...stats(), wp_wc_orders: { rows: 3, checksum: '9' } } },
      observed: observed(stats()),
      failures: ['MissingTable:wp_wc_orders'],
    },
    {
      name: 'several failures are all named',
      observed: observed(stats({ wp_users: undefined, wp_terms: { rows: 1, checksum: '1' } })),
      failures: [
        'MissingTable:wp_users',
        `RowCountMismatch:wp_terms expected ${manifest.tables.wp_terms?.rows} got 1`,
      ],
    },
  ];
  it.each(cases)('$name', (c) => {
    // Prepare: the case
    // Act
    const verdict = evaluateAgainstManifest({
      snapshotId: c.snapshotId ?? 'snap-1',
      prefix: 'wp_',
      manifest: c.manifest ?? manifest,
      observed: c.observed,
    });
    // Assess
    expect([...verdict.failures].sort()).toEqual([...c.failures].sort());
    expect(verdict.passed).toBe(c.failures.length === 0);
    expect(verdict.mode).toBe('manifest');
  });
});

describe('evaluateAgainstLive', () => {
  const live = stats({ wp_posts: { rows: 100, checksum: null } });
  const cases: {
    name: string;
    observed: ObservedDatabase;
    tolerance: number;
    failures: string[];
  }[] = [
    { name: 'equal counts pass', observed: observed(live), tolerance: 0, failures: [] },
    {
      name: 'within 10 %',
      observed: observed(stats({ wp_posts: { rows: 90, checksum: '1' } })),
      tolerance: 0.1,
      failures: [],
    },
    {
      name: 'beyond 10 %',
      observed: observed(stats({ wp_posts: { rows: 89, checksum: '1' } })),
      tolerance: 0.1,
      failures: ['RowCountOutOfTolerance:wp_posts live 100 got 89 (tolerance 10%)'],
    },
    {
      name: 'missing table',
      observed: observed(stats({ wp_posts: { rows: 100, checksum: null }, wp_options: undefined })),
      tolerance: 0.5,
      failures: ['MissingTable:wp_options'],
    },
  ];
  it.each(cases)('$name', (c) => {
    // Prepare: the case
    // Act
    const verdict = evaluateAgainstLive({
      prefix: 'wp_',
      tolerance: c.tolerance,
      live,
      observed: c.observed,
    });
    // Assess
    expect(verdict.failures).toEqual(c.failures);
    expect(verdict.mode).toBe('live');
  });

  it('refuses a tolerance outside 0..1', () => {
    // Prepare / Act / Assess
    expect(() =>
      evaluateAgainstLive({ prefix: 'wp_', tolerance: 5, live, observed: observed(live) }),
    ).toThrow(/between 0 and 1/);
  });
});

describe('helpers', () => {
  it.each([
    [10, 10, 0, true],
    [9, 10, 0, false],
    [0, 0, 0.1, true],
    [1, 0, 0.1, false],
    [95, 100, 0.05, true],
    [94, 100, 0.05, false],
    [3, 2, 0.1, true], // ceil(0.2) = 1 row of slack on small tables
  ])('withinTolerance(%i, live %i, %f) = %s', (observedRows, liveRows, tolerance, expected) => {
    // Prepare / Act / Assess
    expect(withinTolerance(observedRows, liveRows, tolerance)).toBe(expected);
  });

  it('formats failures with table and detail', () => {
    // Prepare / Act / Assess
    expect(formatFailure({ check: 'MissingTable', table: 'wp_posts' })).toBe(
      'MissingTable:wp_posts',
    );
    expect(
      formatFailure({ check: 'RowCountMismatch', table: 'wp_posts', detail: 'expected 12 got 0' }),
    ).toBe('RowCountMismatch:wp_posts expected 12 got 0');
  });

  it('uses a configured prefix and refuses one that would need quoting', () => {
    // Prepare / Act / Assess
    expect(coreTables('blog7_')).toContain('blog7_posts');
    expect(coreTables('x_')).toHaveLength(12);
    expect(() => coreTables('wp`; DROP')).toThrow(RangeError);
    expect(
      tablesToInspect('wp_', { ...manifest, tables: { wp_extra: { rows: 1, checksum: '1' } } }),
    ).toContain('wp_extra');
  });
});
