import { describe, expect, it } from 'vitest';
import {
  buildLedgerRecord,
  chooseLastKnownGood,
  type LedgerRecord,
  rollbackTarget,
} from '#commons/ledger.ts';

const td = (n: number) => `arn:aws:ecs:us-east-1:123456789012:task-definition/sd-wordpress:${n}`;
const rec = (
  releaseId: string,
  outcome: LedgerRecord['outcome'],
  finishedAt: string,
  over: Partial<LedgerRecord> = {},
): LedgerRecord => ({
  service: 'sd',
  releaseId,
  outcome,
  startedAt: finishedAt,
  finishedAt,
  trigger: 'manual',
  startedBy: 'alice',
  source: { type: 'image' },
  ...over,
});

describe('chooseLastKnownGood', () => {
  const cases: Array<{
    name: string;
    records: LedgerRecord[];
    failed: string;
    fallback?: string;
    expected?: string;
    reason?: RegExp;
  }> = [
    {
      name: 'skips N-1 when N-1 itself failed and was rolled back',
      records: [
        rec('r3', 'ROLLED_BACK', '2026-01-03T00:00:00Z', {
          taskDefinitionArn: td(9),
          rollbackTaskDefinitionArn: td(8),
        }),
        rec('r2', 'SUCCEEDED', '2026-01-02T00:00:00Z', { taskDefinitionArn: td(8) }),
        rec('r1', 'SUCCEEDED', '2026-01-01T00:00:00Z', { taskDefinitionArn: td(7) }),
      ],
      failed: td(10),
      fallback: td(9),
      expected: td(8),
      reason: /release r3 \(rolled_back/,
    },
    {
      name: 'the newest success by finish time, whatever the input order',
      records: [
        rec('r1', 'SUCCEEDED', '2026-01-01T00:00:00Z', { taskDefinitionArn: td(7) }),
        rec('r2', 'SUCCEEDED', '2026-01-02T00:00:00Z', { taskDefinitionArn: td(8) }),
      ],
      failed: td(9),
      expected: td(8),
    },
    {
      name: 'never the failing revision itself',
      records: [
        rec('r2', 'SUCCEEDED', '2026-01-02T00:00:00Z', { taskDefinitionArn: td(9) }),
        rec('r1', 'SUCCEEDED', '2026-01-01T00:00:00Z', { taskDefinitionArn: td(7) }),
      ],
      failed: td(9),
      expected: td(7),
    },
    {
      name: 'FAILED and DIRTY releases prove nothing',
      records: [
        rec('r2', 'DIRTY', '2026-01-02T00:00:00Z', {
          taskDefinitionArn: td(8),
          rollbackTaskDefinitionArn: td(6),
        }),
        rec('r1', 'FAILED', '2026-01-01T00:00:00Z', { taskDefinitionArn: td(7) }),
      ],
      failed: td(9),
      fallback: td(5),
      expected: td(5),
      reason: /no good release in the ledger/,
    },
    {
      name: 'first release: the revision that ran before',
      records: [],
      failed: td(2),
      fallback: td(1),
      expected: td(1),
    },
    { name: 'nothing at all', records: [], failed: td(2), fallback: td(2), expected: undefined },
  ];
  it.each(cases)('$name', ({ records, failed, fallback, expected, reason }) => {
    // Prepare / Act
    const choice = chooseLastKnownGood(records, failed, fallback);
    // Assess
    expect(choice?.taskDefinitionArn).toBe(expected);
    if (reason) expect(choice?.reason).toMatch(reason);
  });
});

describe('buildLedgerRecord', () => {
  const state = {
    release: {
      releaseId: 'r9',
      trigger: 'manual',
      startedBy: 'alice',
      startedAt: '2026-01-09T00:00:00Z',
      source: { type: 'image' },
      target: { service: 'sd' },
    },
    artifacts: { image: { uri: 'repo@sha256:x' }, snapshot: { id: 'sd-release-r9' } },
    taskDef: { taskDefinitionArn: td(9), previousTaskDefinitionArn: td(8) },
    knownGood: { taskDefinitionArn: td(8) },
    deploy: { health: { status: 'FAILED' } },
    secretish: { password: 'never-stored' },
  };
  it.each([
    ['SUCCEEDED', td(9), undefined],
    ['ROLLED_BACK', td(8), td(8)],
    ['FAILED', undefined, td(8)],
    ['DIRTY', undefined, td(8)],
  ] as const)('%s marks %s as good', (status, good, rollback) => {
    // Prepare
    const input = {
      ...state,
      outcome: { status, step: 'CheckHealth', error: 'HealthCheckFailed', reason: 'r' },
    };
    // Act
    const record = buildLedgerRecord(
      input,
      { CheckHealth: 1000 },
      new Date('2026-01-09T00:10:00Z'),
    );
    // Assess
    expect(record.goodTaskDefinitionArn).toBe(good);
    expect(record.goodAt).toBe(good ? '2026-01-09T00:10:00.000Z' : undefined);
    expect(record.rollbackTaskDefinitionArn).toBe(rollback);
    expect(record.failure).toEqual(
      status === 'SUCCEEDED'
        ? undefined
        : { step: 'CheckHealth', error: 'HealthCheckFailed', reason: 'r' },
    );
    expect(JSON.stringify(record)).not.toContain('never-stored');
  });
});

describe('buildLedgerRecord backup verification', () => {
  it('records a warn-mode verification failure without the nested execution output', () => {
    // Prepare: the snapshot branch carried a failed nested verification (warn mode)
    const input = {
      release: {
        releaseId: 'r10',
        trigger: 'manual',
        startedBy: 'alice',
        startedAt: '2026-01-10T00:00:00Z',
        source: { type: 'image' },
        target: { service: 'sd' },
      },
      artifacts: {
        snapshot: {
          id: 'sd-release-r10',
          verification: { status: 'FAILED', summary: 'VerifyData: RowCountMismatch', extra: 'x' },
        },
      },
      taskDef: { taskDefinitionArn: td(10) },
      outcome: { status: 'SUCCEEDED' },
    };
    // Act
    const record = buildLedgerRecord(input, undefined, new Date('2026-01-10T00:10:00Z'));
    // Assess
    expect(record.backupVerification).toEqual({
      status: 'FAILED',
      summary: 'VerifyData: RowCountMismatch',
    });
  });
});

describe('buildLedgerRecord schema', () => {
  const base = {
    release: {
      releaseId: 'r11',
      trigger: 'manual',
      startedBy: 'alice',
      startedAt: '2026-01-11T00:00:00Z',
      source: { type: 'image' },
      target: { service: 'sd' },
    },
    artifacts: { snapshot: { id: 'sd-release-r11' } },
    taskDef: { taskDefinitionArn: td(11) },
    knownGood: { taskDefinitionArn: td(10) },
  };
  const change = {
    changed: true,
    dbVersion: { before: '58975', after: '58975' },
    tablesAdded: ['wp_log'],
    tablesRemoved: [],
    columnsAdded: ['wp_posts.flag'],
    columnsRemoved: [],
  };

  it.each([
    [
      'a compared schema: both summaries and the change, not the message text',
      {
        status: 'READ',
        snapshotId: 'sd-release-r11',
        before: { dbVersion: '58975', tables: 12 },
        after: { dbVersion: '58975', tables: 13 },
        change,
        note: ' The code was rolled back but the schema was not: …',
        extra: 'not stored',
      },
      {
        status: 'READ',
        snapshotId: 'sd-release-r11',
        before: { dbVersion: '58975', tables: 12 },
        after: { dbVersion: '58975', tables: 13 },
        change,
      },
    ],
    [
      'a schema that could not be read: the reason',
      {
        status: 'NOT_READ',
        snapshotId: 'sd-release-r11',
        reason: 'schema not read: LiveDatabaseError: ETIMEDOUT',
        note: ' The schema the release left was not read …',
      },
      {
        status: 'NOT_READ',
        snapshotId: 'sd-release-r11',
        reason: 'schema not read: LiveDatabaseError: ETIMEDOUT',
      },
    ],
  ] as const)('%s', (_name, schema, recorded) => {
    // Prepare
    const input = { ...base, outcome: { status: 'ROLLED_BACK', step: 'SmokeTest' }, schema };
    // Act
    const record = JSON.parse(
      JSON.stringify(buildLedgerRecord(input, undefined, new Date('2026-01-11T00:10:00Z'))),
    );
    // Assess: the JSON round trip drops undefined fields, as DynamoDB's marshalling does.
    expect(record.schema).toEqual(recorded);
  });

  it('a release whose new code never ran records no schema', () => {
    // Prepare / Act
    const record = buildLedgerRecord(
      { ...base, outcome: { status: 'FAILED', step: 'BuildImage' } },
      undefined,
      new Date('2026-01-11T00:10:00Z'),
    );
    // Assess
    expect(record.schema).toBeUndefined();
  });
});

describe('rollbackTarget', () => {
  const question = { service: 'sd', releaseId: 'r3', failedTaskDefinitionArn: td(9) };

  it.each([
    {
      name: 'ignores the releasing run itself even when it was recorded good',
      good: [
        rec('r3', 'SUCCEEDED', '2026-01-03T00:00:00Z', { taskDefinitionArn: td(10) }),
        rec('r2', 'SUCCEEDED', '2026-01-02T00:00:00Z', { taskDefinitionArn: td(8) }),
      ],
      expected: td(8),
    },
    {
      name: 'picks the newest good revision that is not the failing one',
      good: [
        rec('r2', 'SUCCEEDED', '2026-01-02T00:00:00Z', { taskDefinitionArn: td(9) }),
        rec('r1', 'SUCCEEDED', '2026-01-01T00:00:00Z', { taskDefinitionArn: td(7) }),
      ],
      expected: td(7),
    },
  ])('$name', ({ good, expected }) => {
    // Prepare: the good releases above. Act
    const target = rollbackTarget(good, question);
    // Assess
    expect(target.taskDefinitionArn).toBe(expected);
  });

  it('names the service and the failing revision when nothing else is known good', () => {
    // Prepare: only the failing revision was ever good
    const good = [rec('r2', 'SUCCEEDED', '2026-01-02T00:00:00Z', { taskDefinitionArn: td(9) })];
    // Act + Assess
    expect(() => rollbackTarget(good, question)).toThrowError(
      expect.objectContaining({ name: 'NoKnownGoodError', message: expect.stringContaining('sd') }),
    );
  });
});
