import { describe, expect, it } from 'vitest';
import {
  imageBuildSection,
  localReleaseSection,
  restoreSection,
  transitionsSection,
} from '../../../bench/lib/adapters.ts';

describe('imageBuildSection', () => {
  it('sets each Packer build against its Dockerfile yardstick', () => {
    // Prepare: the shape bench/image-build.ts writes
    const json = {
      rows: [
        { scenario: 'packer cold', seconds: 180, detail: 'a' },
        { scenario: 'packer unchanged', seconds: 30, detail: 'b' },
        { scenario: 'packer app-only', seconds: 90, detail: 'c' },
        { scenario: 'dockerfile cold', seconds: 120, detail: 'd' },
        { scenario: 'dockerfile warm', seconds: 20, detail: 'e' },
      ],
    };
    // Act
    const s = imageBuildSection(json);
    // Assess
    expect(s.status).toBe('measured');
    expect(s.figures.map((f) => f.ratio)).toEqual([1.5, 1.5, 4.5]);
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
});

describe('localReleaseSection', () => {
  it('holds the health gate to its floor with the 10% target and stacks the phases', () => {
    // Prepare: the shape bench/local-release.ts writes
    const json = {
      phasesMs: {
        build: 60_000,
        snapshot: 2000,
        register: 50,
        rollout: 4000,
        healthGate: 5600,
        drain: 1000,
        smokeTest: 300,
        total: 70_000,
      },
      floorMs: { containerReady: 3000, haproxyRise: 2000, healthGate: 5000 },
    };
    // Act
    const s = localReleaseSection(json);
    // Assess
    expect(s.figures[0]).toMatchObject({ value: 5600, ratio: 1.12, met: false });
    expect(s.phases?.[0]?.segments.map((g) => g.value)).toEqual([60_000, 50, 5600, 300, 4050]);
  });

  it('refuses a shape it does not know', () => {
    // Prepare / Act
    const s = localReleaseSection({ seconds: 12 });
    // Assess
    expect(s.status).toBe('not measured');
    expect(s.reason).toContain('keys: seconds');
  });
});
