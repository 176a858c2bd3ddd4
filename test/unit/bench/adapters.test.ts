import { describe, expect, it } from 'vitest';
import {
  imageBuildSection,
  localReleaseSection,
  restoreSection,
  transitionsSection,
} from '../../../bench/lib/adapters.ts';

describe('imageBuildSection', () => {
  it('sets each Packer build against its Dockerfile yardstick, app-only against its target', () => {
    // Prepare: the shape bench/image-build.ts writes
    const json = {
      rows: [
        { scenario: 'packer cold', seconds: 180, detail: 'a', appStageBuilt: true },
        { scenario: 'packer unchanged', seconds: 3, detail: 'b', appStageBuilt: false },
        { scenario: 'packer app-only', seconds: 30, detail: 'c', appStageBuilt: true },
        { scenario: 'dockerfile cold', seconds: 120, detail: 'd' },
        { scenario: 'dockerfile unchanged', seconds: 2, detail: 'e' },
        { scenario: 'dockerfile app-only', seconds: 10, detail: 'f' },
      ],
      shapes: [
        { image: 'packer', sizeBytes: 600 * 2 ** 20, layers: 3 },
        { image: 'dockerfile', sizeBytes: 580 * 2 ** 20, layers: 4 },
      ],
    };
    // Act
    const s = imageBuildSection(json);
    // Assess
    expect(s.status).toBe('measured');
    expect(s.figures.map((f) => f.ratio)).toEqual([1.5, 1.5, null, 3, 1.034, 0.75]);
    expect(s.figures.map((f) => f.met)).toEqual([null, null, true, false, null, null]);
  });

  it('fails the content-hash target when an unchanged source rebuilt its app stage', () => {
    // Prepare
    const json = { rows: [{ scenario: 'packer unchanged', seconds: 30, appStageBuilt: true }] };
    // Act
    const rebuilt = imageBuildSection(json).figures.find((f) => f.name.startsWith('app stage'));
    // Assess
    expect(rebuilt?.value).toBe(1);
    expect(rebuilt?.met).toBe(false);
  });

  it('marks a missing row not measured instead of inventing it', () => {
    // Prepare / Act
    const s = imageBuildSection({ rows: [{ scenario: 'packer cold', seconds: 1 }] });
    // Assess
    expect(s.status).toBe('not measured');
    expect(s.figures.every((f) => f.value === null)).toBe(true);
    expect(s.reason).toContain('dockerfile cold');
  });
});

describe('restoreSection', () => {
  it('one figure per size, restore + verify over plain restore', () => {
    // Prepare
    const json = {
      rows: [
        {
          sizeMb: 10,
          restoreSeconds: 10,
          restoreAndVerifySeconds: 11,
          verifySeconds: 0.5,
          dumpBytes: 1e7,
        },
      ],
    };
    // Act
    const s = restoreSection(json);
    // Assess
    expect(s.figures).toHaveLength(1);
    expect(s.figures[0]).toMatchObject({ value: 11, ratio: 1.1, unit: 's' });
  });

  it('sets restore + verify against the verified scratch own restore when the run timed it', () => {
    // Prepare: the separate plain restore ran slow (40 s), the verified scratch's took 36 s
    const json = {
      rows: [
        {
          sizeMb: 1000,
          restoreSeconds: 40,
          scratchRestoreSeconds: 36,
          restoreAndVerifySeconds: 42,
          verifySeconds: 6,
          readSeconds: 6,
          dumpBytes: 1e9,
        },
      ],
    };
    // Act
    const [both] = restoreSection(json).figures;
    // Assess
    expect(both).toMatchObject({
      value: 42,
      yardstick: { name: 'plain restore (the verified scratch, same run)', value: 36 },
      met: true,
    });
    expect(both?.ratio).toBeCloseTo(1.167, 3);
    expect(both?.note).toContain('a plain restore in a run of its own 40 s');
  });

  it("judges 1 GB by the issue's 1.2x and sets verify against one full read of the data", () => {
    // Prepare
    const row = { restoreSeconds: 40, verifySeconds: 15, readSeconds: 12, dumpBytes: 1e9 };
    const json = {
      rows: [
        { ...row, sizeMb: 100, restoreAndVerifySeconds: 55 },
        { ...row, sizeMb: 1000, restoreAndVerifySeconds: 55 },
        { ...row, sizeMb: 1000, restoreAndVerifySeconds: 47 },
      ],
    };
    // Act
    const s = restoreSection(json);
    // Assess
    const restoreFigures = s.figures.filter((f) => f.name.endsWith('restore + verify'));
    expect(restoreFigures.map((f) => f.met)).toEqual([null, false, true]);
    expect(
      s.figures.find((f) => f.name === '1000 MB of WordPress content: verify alone'),
    ).toMatchObject({
      value: 15,
      ratio: 1.25,
      yardstick: {
        name: 'one full read of the restored data over the same 8 connections',
        value: 12,
      },
    });
  });
});

describe('transitionsSection', () => {
  it('sets the rolled-back release against the successful one', () => {
    // Prepare
    const json = {
      results: [
        { scenario: 'successful-release', status: 'SUCCEEDED', transitions: 30, healthPolls: 3 },
        {
          scenario: 'rolled-back-release',
          status: 'FAILED',
          error: 'ROLLED_BACK',
          transitions: 45,
          healthPolls: 8,
        },
      ],
    };
    // Act
    const s = transitionsSection(json);
    // Assess
    expect(s.status).toBe('measured');
    expect(s.figures[1]).toMatchObject({ value: 45, ratio: 1.5 });
  });

  it('sets transitions against rollout time beside the 15 s polls, one row each', () => {
    // Prepare
    const json = {
      results: [
        { scenario: 'successful-release', status: 'SUCCEEDED', transitions: 49, healthPolls: 3 },
        {
          scenario: 'rolled-back-release',
          status: 'FAILED',
          error: 'ROLLED_BACK',
          transitions: 54,
        },
      ],
      growth: {
        note: 'n',
        rows: [
          {
            rolloutSeconds: 62,
            adaptive: { transitions: 73, healthPolls: 11, gateSeconds: 65 },
            fixed15: { transitions: 55, healthPolls: 5, gateSeconds: 75 },
          },
        ],
      },
    };
    // Act
    const s = transitionsSection(json);
    // Assess
    expect(s.status).toBe('measured');
    expect(s.figures[2]).toMatchObject({ value: 73, ratio: 1.327 });
    expect(s.tables?.[0]?.rows).toEqual([
      ['62 s', '73 (11 polls)', '65 s', '55 (5 polls)', '75 s'],
    ]);
  });
});

describe('localReleaseSection', () => {
  it('holds each rollout phase to its floor (≤ 1.15×) and stacks the release', () => {
    // Prepare: the shape bench/local-release.ts writes
    const json = {
      version: 2,
      load: { fraction: 0.5, ratePerSecond: 3, capacity: 6, sent: 300, failed: 0 },
      settings: {
        timeFactor: 0.5,
        healthyThreshold: 2,
        intervalMs: 5000,
        deregistrationDelayMs: 10_000,
      },
      floorsMs: { containerReady: 2000, serving: 12_000, gone: 22_000 },
      rolloutMs: {
        firstNewServing: 9_000,
        allNewServing: 14_400,
        oldGone: 17_000,
        gatePassed: 20_000,
        drain: 1500,
      },
      transitions: { total: 80, healthPolls: 8 },
      phasesMs: {
        build: 60_000,
        snapshot: 2000,
        register: 50,
        trial: 8000,
        healthGate: 20_500,
        smokeTest: 300,
        total: 92_000,
      },
    };
    // Act
    const s = localReleaseSection(json);
    // Assess
    expect(s.status).toBe('measured');
    expect(s.figures.slice(0, 4).map((f) => [f.ratio, f.met])).toEqual([
      [0.75, true],
      [1.2, false],
      [0.7727, true],
      [0.9091, true],
    ]);
    expect(s.figures[4]).toMatchObject({ value: 80, unit: 'transitions' });
    expect(s.figures[4]?.note).toContain('8 health polls in a rollout of 20.0 s');
    expect(s.phases?.[0]?.segments.map((g) => g.value)).toEqual([
      60_000, 50, 8000, 20_500, 300, 3150,
    ]);
  });

  it('marks a phase the release did not record not measured, never zero', () => {
    // Prepare
    const json = {
      floorsMs: { containerReady: 2000, serving: 12_000, gone: 22_000 },
      rolloutMs: {
        firstNewServing: 9_000,
        allNewServing: null,
        oldGone: 17_000,
        gatePassed: 20_000,
      },
      phasesMs: { total: 1 },
    };
    // Act
    const s = localReleaseSection(json);
    // Assess
    expect(s.status).toBe('partial');
    expect(s.figures[1]).toMatchObject({ value: null, met: null });
  });

  it('refuses a shape it does not know', () => {
    // Prepare / Act
    const s = localReleaseSection({ seconds: 12 });
    // Assess
    expect(s.status).toBe('not measured');
    expect(s.reason).toContain('keys: seconds');
  });
});
