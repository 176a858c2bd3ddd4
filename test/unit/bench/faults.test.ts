import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSiteSource } from '#local/site-source.ts';
import {
  type FaultsOutput,
  latencyPhases,
  plannedScenarios,
  sectionFromFaults,
} from '../../../bench/faults.ts';
import {
  bracket,
  type CapacityResult,
  capacityOf,
  judgeTrial,
  nextRate,
} from '../../../bench/lib/capacity.ts';
import {
  changedSiteSource,
  type FaultRun,
  judgeEndState,
  replacementMs,
  scenarioArgs,
} from '../../../bench/lib/fault-scenarios.ts';
import { type LoadResult, latencySummary } from '../../../bench/lib/load.ts';
import { type BenchRun, renderMarkdown } from '../../../bench/report.ts';
import { failureRate } from '../../../bench/run.ts';

const trials = (...rows: [number, boolean][]) => rows.map(([rate, passed]) => ({ rate, passed }));

function load(over: Partial<LoadResult> = {}): LoadResult {
  return {
    sent: 100,
    ok: 100,
    failed: 0,
    failures: [],
    startedAt: 0,
    endedAt: 20_000,
    latenciesMs: [],
    samples: Array.from({ length: 100 }, (_, i) => ({ at: i * 200, ms: 10 + i, ok: true })),
    ...over,
  };
}

describe('latencySummary', () => {
  it('takes p50, p99 and max of the requests sent in the window', () => {
    // Prepare: 100 requests 200 ms apart taking 10..109 ms
    const result = load();
    // Act
    const all = latencySummary(result);
    const late = latencySummary(result, { from: 10_000 });
    // Assess
    expect(all).toMatchObject({ n: 100, max: 109 });
    expect(all?.p99).toBeCloseTo(108.01, 2);
    expect(late).toMatchObject({ n: 50, max: 109 });
    expect(late?.p50).toBeCloseTo(84.5, 2);
    expect(latencySummary(result, { from: 1e9 })).toBeUndefined();
  });

  it('falls back to the bare latencies of an older result', () => {
    // Prepare / Act / Assess
    expect(latencySummary({ latenciesMs: [5, 7, 9] })).toMatchObject({ n: 3, p50: 7, max: 9 });
  });
});

describe('judgeTrial', () => {
  it.each([
    { failed: 0, slow: false, passed: true, why: '' },
    { failed: 1, slow: false, passed: false, why: '1/100 failed (ECONNRESET)' },
    { failed: 0, slow: true, passed: false, why: 'p99 900 ms ≥ 500 ms' },
  ])('failed $failed, slow $slow → passed $passed', ({ failed, slow, passed, why }) => {
    // Prepare
    const result = load({
      failed,
      failures: Array.from({ length: failed }, () => ({ at: 1, reason: 'ECONNRESET' })),
      samples: Array.from({ length: 100 }, (_, i) => ({
        at: i,
        ms: slow ? 900 : 50,
        ok: true,
      })),
    });
    // Act
    const trial = judgeTrial(8, result);
    // Assess
    expect(trial).toMatchObject({ rate: 8, passed, why });
  });
});

describe('the capacity search', () => {
  it.each([
    { name: 'starts at the start rate', done: trials(), next: 4 },
    { name: 'doubles while every trial passes', done: trials([4, true], [8, true]), next: 16 },
    { name: 'stops at the cap', done: trials([32, true], [64, true]), next: undefined },
    {
      name: 'bisects between the best pass and the first failure',
      done: trials([4, true], [8, true], [16, false]),
      next: 12,
    },
    {
      name: 'stops when the bracket is within 10 % (or one step)',
      done: trials([10, true], [10.5, false]),
      next: undefined,
    },
    { name: 'halves when the start rate fails', done: trials([4, false]), next: 2 },
    { name: 'stops at the floor', done: trials([1, false], [0.5, false]), next: undefined },
    {
      name: 'ignores a noisy pass above a failure',
      done: trials([4, true], [8, false], [12, true]),
      next: 6,
    },
  ])('$name', ({ done, next }) => {
    // Prepare: the trials so far. Act / Assess
    expect(nextRate(done)).toBe(next);
  });

  it('reports the best pass below the lowest failure as the capacity', () => {
    // Prepare
    const done = trials([4, true], [8, true], [16, false], [12, false], [10, true], [11, false]);
    // Act / Assess
    expect(bracket(done)).toEqual({ lo: 10, hi: 11 });
    expect(capacityOf(done)).toBe(10);
    expect(capacityOf(trials([4, false]))).toBe(0);
  });
});

describe('judgeEndState', () => {
  const td = 'arn:local:ecs:task-definition/wp:7';
  const task = (name: string, port: number, rev = 7, lastStatus = 'RUNNING' as const) => ({
    name,
    port,
    revision: rev,
    lastStatus,
    taskDefinitionArn: `arn:local:ecs:task-definition/wp:${rev}`,
  });
  const target = (name: string, port: number, state = 'healthy') => ({
    name,
    port,
    state,
    reason: null,
  });

  it.each([
    {
      name: 'holds when the targets are exactly the running tasks of the revision, healthy',
      tasks: [task('a', 1), task('b', 2), task('old', 3, 6, 'STOPPED' as never)],
      targets: [target('a', 1), target('b', 2)],
      problems: [],
    },
    {
      name: 'names a target of another revision still registered',
      tasks: [task('a', 1), task('b', 2), task('old', 3, 6)],
      targets: [target('a', 1), target('b', 2), target('old', 3)],
      problems: [
        'target old:3 (healthy) is registered but is a RUNNING task of revision 6, not a running task of wp:7',
        'task old of revision 6 is still RUNNING',
      ],
    },
    {
      name: 'names a missing task, an unregistered one and an unhealthy target',
      tasks: [task('a', 1)],
      targets: [target('a', 1, 'unhealthy'), target('ghost', 9)],
      problems: [
        '1 task(s) of wp:7 running, 2 desired',
        'target a:1 is unhealthy',
        'target ghost:9 (healthy) is registered but is no task, not a running task of wp:7',
      ],
    },
  ])('$name', ({ tasks, targets, problems }) => {
    // Prepare: the table row. Act
    const found = judgeEndState({ taskDefinition: td, desiredCount: 2, tasks, targets });
    // Assess
    expect(found).toEqual(problems);
  });

  it('refuses a service with no revision', () => {
    // Prepare / Act / Assess
    expect(
      judgeEndState({ taskDefinition: null, desiredCount: null, tasks: [], targets: [] }),
    ).toEqual(['the service record names no revision']);
  });
});

describe('scenarioArgs and plannedScenarios', () => {
  it.each([
    { s: 'good', args: ['release', '--revision', 'v', '--json'] },
    { s: 'failing', args: ['release', '--revision', 'v', '--fault', 'healthz', '--json'] },
    { s: 'fault-home', args: ['release', '--revision', 'v', '--fault', 'home', '--json'] },
    { s: 'crash', args: ['release', '--revision', 'v', '--fault', 'crash', '--json'] },
    { s: 'rollback', args: ['rollback', '--json'] },
    { s: 'kill-new', args: ['release', '--image', 'r/wp@sha256:ab', '--json'] },
  ] as const)('$s runs stepdeploy local $args', ({ s, args }) => {
    // Prepare: the table row. Act / Assess
    expect(scenarioArgs(s, { label: 'v', image: 'r/wp@sha256:ab' })).toEqual(args);
  });

  it('builds a release from the source directory it is given', () => {
    // Prepare / Act / Assess
    expect(scenarioArgs('good', { label: 'v', sourceDir: '/s' })).toEqual([
      'release',
      '--revision',
      'v',
      '--source',
      '/s',
      '--json',
    ]);
  });

  it("stages a changed copy of site/ per label, so every built scenario's source differs", async () => {
    // Prepare
    const home = await mkdtemp(join(tmpdir(), 'bench-source-'));
    try {
      // Act
      const [a, b] = await Promise.all([
        changedSiteSource(home, 'good-a'),
        changedSiteSource(home, 'good-b'),
      ]);
      const [site, first, second] = await Promise.all(
        [join(import.meta.dirname, '../../../site'), a, b].map(readSiteSource),
      );

      // Assess
      expect(new Set([site.hash, first.hash, second.hash]).size).toBe(3);
      expect(first.files.length).toBe(site.files.length + 1);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('runs in the bench order and adds a good release before a rollback', () => {
    // Prepare / Act / Assess
    expect(plannedScenarios(['db-restart', 'rollback'])).toEqual([
      'good',
      'rollback',
      'db-restart',
    ]);
  });
});

describe('replacementMs', () => {
  it('times the kill of a new task to the task its deployment started beyond the desired count', () => {
    // Prepare: two new tasks started, one killed at t=1000, a third started at t=1800
    const ev = (type: string, at: number, extra: object = {}) => ({
      type,
      at,
      deploymentId: 'd1',
      ...extra,
    });
    const run = {
      injection: {
        kind: 'kill-new-task' as const,
        target: 't1',
        at: 1000,
        tookMs: 5,
        trigger: '',
      },
      release: {
        serviceEvents: [
          ev('deployment-created', 0, { taskDefinition: 'x' }),
          ev('task-started', 100, { task: 't1', port: 1 }),
          ev('task-started', 1200, { task: 't2', port: 2 }),
          ev('task-started', 1800, { task: 't3', port: 3 }),
        ],
      },
    } as unknown as Pick<FaultRun, 'injection' | 'release'>;
    const named = {
      ...run,
      release: {
        serviceEvents: [
          ...(run.release?.serviceEvents ?? []).slice(0, 3),
          ev('task-failed', 1100, { task: 't1', reason: 'exit 137', failedTasks: 1 }),
          ev('task-replaced', 1500, { task: 't3', port: 3 }),
        ],
      },
    } as unknown as Pick<FaultRun, 'injection' | 'release'>;
    // Act / Assess
    expect(replacementMs(run, 2)).toBe(800);
    expect(replacementMs(named, 2)).toBe(500);
    expect(replacementMs({ ...run, injection: undefined }, 2)).toBeUndefined();
  });
});

describe('latencyPhases', () => {
  it('splits the load at the first deployment, the last tasks healthy and the last completion', () => {
    // Prepare: 100 requests 200 ms apart (10..109 ms) over a 19 s run, one failure at 12.5 s
    const ev = (type: string, at: number) => ({ type, at, deploymentId: 'd' });
    const run = {
      startedAt: 0,
      endedAt: 19_000,
      release: {
        serviceEvents: [
          ev('deployment-created', 5000),
          ev('tasks-healthy', 12_000),
          ev('deployment-completed', 15_000),
        ],
      },
      load: load({ failed: 1, failures: [{ at: 12_500, reason: 'HTTP 503' }] }),
    } as unknown as FaultRun;
    // Act
    const phases = latencyPhases(run);
    // Assess
    expect(phases.map((p) => [p.phase, p.from, p.to, p.sent, p.failed])).toEqual([
      ['before the first deployment', 0, 5000, 25, 0],
      ['new tasks starting', 5000, 12_000, 35, 0],
      ['switch (drain, stop)', 12_000, 15_000, 15, 1],
      ['after the rollout', 15_000, 20_000, 25, 0],
    ]);
    expect(phases[0]?.p99Ms).toBeCloseTo(33.76, 2);
  });
});

describe('failureRate', () => {
  it.each([
    { flag: undefined, capacity: 12, value: 6, text: '0.5 × the capacity at rest, 12 req/s' },
    { flag: '3', capacity: 12, value: 3, text: '0.25 × the capacity at rest' },
    { flag: undefined, capacity: null, value: 2, text: 'capacity was not measured' },
  ])('--rate $flag with capacity $capacity → $value req/s', ({ flag, capacity, value, text }) => {
    // Prepare: the table row. Act
    const rate = failureRate(flag, capacity, 0.5);
    // Assess
    expect(rate.value).toBe(value);
    expect(rate.text).toContain(text);
  });
});

describe('sectionFromFaults', () => {
  const capacity: CapacityResult = {
    capacity: 12,
    firstFailingRate: 16,
    atCapacity: null,
    trials: [
      {
        rate: 12,
        sent: 240,
        failed: 0,
        p50Ms: 50,
        p99Ms: 300,
        passed: true,
        why: '',
        durationMs: 20_000,
      },
    ],
    ended: 'converged',
    limits: { maxFailed: 0, p99BelowMs: 500 },
    trialMs: 20_000,
    settleMs: 3000,
    durationMs: 100_000,
  };
  const run = (over: Partial<FaultRun>): FaultRun => ({
    scenario: 'kill-new',
    label: 'new task killed mid-rollout',
    expected: 'SUCCEEDED',
    outcome: 'SUCCEEDED',
    ratePerSecond: 6,
    args: [],
    startedAt: 0,
    endedAt: 19_000,
    before: { taskDefinition: 'td:1', image: 'i', tasks: [] },
    release: null,
    load: load(),
    end: {
      taskDefinition: 'arn:local:ecs:task-definition/wp:2',
      revision: 2,
      desiredCount: 2,
      image: 'i',
      serving: [],
      others: [],
      targets: [],
      problems: [],
    },
    stderrTail: '',
    ...over,
  });

  it('states every rate as a number and as a fraction of the capacity, with a verdict per target', () => {
    // Prepare: at rest p99 50 ms; one scenario held (p99 108 ms), one ended DIRTY with failed
    // requests and a p99 of 400 ms
    const rest = load({
      samples: Array.from({ length: 100 }, (_, i) => ({ at: i, ms: 50, ok: true })),
    });
    const section = sectionFromFaults({
      service: 's',
      fraction: 0.5,
      capacity,
      ratePerSecond: 6,
      rest,
      runs: [
        run({}),
        run({
          scenario: 'db-restart',
          label: 'MariaDB restarted during the health gate',
          outcome: 'DIRTY',
          load: load({
            failed: 3,
            failures: [{ at: 1, reason: 'HTTP 503' }],
            samples: Array.from({ length: 100 }, (_, i) => ({ at: i, ms: 400, ok: true })),
          }),
          end: { ...run({}).end, problems: ['target x:1 is unhealthy'] },
        }),
      ],
      errors: [],
    });
    // Act
    const md = renderMarkdown({
      startedAt: 'a',
      finishedAt: 'b',
      command: 'npm run bench -- faults',
      host: { node: 'v20', platform: 'linux/x64', cpus: 2, loadavg: [0, 0, 0] },
      sections: [section],
    } satisfies BenchRun);
    const byName = (n: string) => section.figures.find((f) => f.name.startsWith(n));
    // Assess
    expect(byName('capacity at rest')?.value).toBe(12);
    expect(byName('load of every scenario')).toMatchObject({ value: 6, ratio: 0.5 });
    expect(byName('new task killed mid-rollout: outcome')?.met).toBe(true);
    expect(byName('new task killed mid-rollout: p99 during the release')).toMatchObject({
      met: true,
      yardstick: { value: 50 },
    });
    expect(
      byName('MariaDB restarted during the health gate: p99 during the release'),
    ).toMatchObject({ ratio: 8, met: false });
    expect(byName('MariaDB restarted during the health gate: outcome')).toMatchObject({
      value: 1,
      met: false,
    });
    expect(byName('MariaDB restarted during the health gate: failed requests')?.met).toBe(false);
    expect(byName('MariaDB restarted during the health gate: end state')?.met).toBe(false);
    expect(md).toContain('Scenarios at 6 req/s (0.5 × the capacity at rest, 12 req/s)');
    expect(md).toContain('| MariaDB restarted during the health gate | 6 req/s (0.5 × 12) |');
    expect(md).toContain('SUCCEEDED / DIRTY ❌');
  });

  /** A load whose every request took `ms`. */
  const flat = (ms: number) =>
    load({ samples: Array.from({ length: 100 }, (_, i) => ({ at: i, ms, ok: true })) });
  /** The figures of one scenario run whose requests took `releaseMs`, at rest 50 ms. */
  const figuresWith = (
    scenario: FaultRun['scenario'],
    label: string,
    releaseMs: number,
    faultAtRest: Pick<FaultsOutput, 'databaseRestartAtRest' | 'taskKillAtRest'>,
  ) => {
    const section = sectionFromFaults({
      service: 's',
      fraction: 0.5,
      capacity,
      ratePerSecond: 6,
      rest: flat(50),
      ...faultAtRest,
      runs: [run({ scenario, label, load: flat(releaseMs) })],
      errors: [],
    });
    return (n: string) => section.figures.find((f) => f.name.startsWith(n));
  };

  it('judges the db-restart p99 against the same restart with no release as well as at rest', () => {
    // Prepare: the restart alone p99 1000 ms
    const databaseRestartAtRest = {
      load: flat(1000),
      injection: { kind: 'restart-database', target: 'db', at: 10, tookMs: 900, trigger: 't' },
      databaseBackMs: 3200,
    } as const;
    // Act: during the release 1500 ms
    const byName = figuresWith('db-restart', 'MariaDB restarted during the health gate', 1500, {
      databaseRestartAtRest,
    });
    // Assess: 30× rest fails the plain rule; 1.5× the fault alone meets the fair one
    expect(byName('MariaDB restarted at rest at 6 req/s (no release): p99')).toMatchObject({
      value: 1000,
      ratio: 20,
      met: null,
    });
    expect(byName('MariaDB restarted at rest at 6 req/s (no release): failed')?.met).toBe(true);
    expect(
      byName('MariaDB restarted during the health gate: p99 during the release'),
    ).toMatchObject({ ratio: 30, met: false });
    expect(
      byName('MariaDB restarted during the health gate: p99 during the release against'),
    ).toMatchObject({ ratio: 1.5, met: true, yardstick: { value: 1000 } });
    expect(byName('MariaDB restarted at rest at 6 req/s (no release): p99')?.note).toContain(
      'answered again 3200 ms after',
    );
  });

  it('judges the kill-old p99 against the same task kill with no release as well as at rest', () => {
    // Prepare: one task killed at rest p99 2000 ms
    const taskKillAtRest = {
      load: flat(2000),
      injection: { kind: 'kill-known-good-task', target: 't1', at: 10, tookMs: 90, trigger: 't' },
    } as const;
    // Act: during the release 7000 ms
    const byName = figuresWith('kill-old', 'known-good task killed mid-rollout', 7000, {
      taskKillAtRest,
    });
    // Assess: 140× rest fails the plain rule; 3.5× the kill alone fails the fair one too
    expect(byName('a task killed at rest at 6 req/s (no release): p99')).toMatchObject({
      value: 2000,
      ratio: 40,
      met: null,
    });
    expect(byName('known-good task killed mid-rollout: p99 during the release')).toMatchObject({
      ratio: 140,
      met: false,
    });
    expect(
      byName('known-good task killed mid-rollout: p99 during the release against the same task'),
    ).toMatchObject({ ratio: 3.5, met: false, yardstick: { value: 2000 } });
    expect(byName('MariaDB restarted at rest')).toBeUndefined();
  });

  it('is not measured, with the reason, when the stack never came up', () => {
    // Prepare / Act
    const section = sectionFromFaults({
      service: 's',
      fraction: 0.5,
      capacity: null,
      ratePerSecond: null,
      rest: null,
      runs: [],
      errors: [],
      setupError: 'stepdeploy local up exited 1',
    });
    // Assess
    expect(section).toMatchObject({
      status: 'not measured',
      reason: 'stepdeploy local up exited 1',
    });
    expect(section.figures).toEqual([]);
  });
});
