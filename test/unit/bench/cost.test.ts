import { describe, expect, it } from 'vitest';
import {
  codeBuildBilledMinutes,
  computeTypeFromStackSource,
  gbSeconds,
  releaseCost,
} from '../../../bench/lib/cost.ts';

describe('gbSeconds', () => {
  it.each([
    { durationMs: 1000, memoryMb: 1024, want: 1 },
    { durationMs: 500, memoryMb: 256, want: 0.125 },
    // Lambda bills duration rounded up to the millisecond.
    { durationMs: 0.2, memoryMb: 1024, want: 0.001 },
  ])('$durationMs ms at $memoryMb MB is $want GB-s', ({ durationMs, memoryMb, want }) => {
    // Prepare: the table row. Act / Assess
    expect(gbSeconds({ function: 'f', durationMs, memoryMb })).toBeCloseTo(want, 12);
  });

  it('refuses a negative duration', () => {
    // Prepare / Act / Assess
    expect(() => gbSeconds({ function: 'f', durationMs: -1, memoryMb: 128 })).toThrow(
      'non-negative',
    );
  });
});

describe('codeBuildBilledMinutes', () => {
  it.each([
    { s: 0, want: 0 },
    { s: 1, want: 1 },
    { s: 60, want: 1 },
    { s: 61, want: 2 },
    { s: 87.8, want: 2 },
  ])('$s s bills $want started minutes', ({ s, want }) => {
    // Prepare: the table row. Act / Assess
    expect(codeBuildBilledMinutes(s)).toBe(want);
  });
});

describe('releaseCost', () => {
  it('adds transitions, Lambda requests and GB-seconds, and build minutes at list prices', () => {
    // Prepare: 40 transitions, 4 calls of 250 ms at 256 MB (0.25 GB-s), a 90 s build on small x86
    const usage = {
      transitions: 40,
      invocations: Array.from({ length: 4 }, () => ({
        function: 'f',
        durationMs: 250,
        memoryMb: 256,
      })),
      buildSeconds: 90,
      computeType: 'general1.small/x86_64' as const,
    };
    // Act
    const cost = releaseCost(usage);
    // Assess
    expect(cost.stepFunctions).toBeCloseTo(40 * 0.000025, 12);
    expect(cost.lambdaRequests).toBeCloseTo(4 * 0.0000002, 14);
    expect(cost.lambdaGbSeconds).toBeCloseTo(0.25, 12);
    expect(cost.lambdaDuration).toBeCloseTo(0.25 * 0.0000133334, 14);
    expect(cost.codeBuildBilledMinutes).toBe(2);
    expect(cost.codeBuild).toBeCloseTo(0.01, 12);
    expect(cost.total).toBeCloseTo(0.001 + 0.0000008 + 0.25 * 0.0000133334 + 0.01, 12);
  });

  it('a release of a given image pays no build', () => {
    // Prepare / Act
    const cost = releaseCost({
      transitions: 10,
      invocations: [],
      buildSeconds: 0,
      computeType: 'general1.small/arm64',
    });
    // Assess
    expect(cost.codeBuild).toBe(0);
    expect(cost.total).toBeCloseTo(0.00025, 12);
  });
});

describe('computeTypeFromStackSource', () => {
  it.each([
    {
      src: 'buildImage: LinuxBuildImage.STANDARD_7_0,\n computeType: ComputeType.SMALL,',
      want: 'general1.small/x86_64',
    },
    {
      src: 'buildImage: LinuxArmBuildImage.AMAZON_LINUX_2_STANDARD_3_0,\n computeType: ComputeType.SMALL,',
      want: 'general1.small/arm64',
    },
    { src: 'computeType: ComputeType.MEDIUM', want: 'general1.medium/x86_64' },
  ])('reads $want', ({ src, want }) => {
    // Prepare: the table row. Act / Assess
    expect(computeTypeFromStackSource(src)).toBe(want);
  });

  it('refuses a source without a compute type, or one it has no price for', () => {
    // Prepare / Act / Assess
    expect(() => computeTypeFromStackSource('new Project(this, "x", {})')).toThrow(
      'no ComputeType',
    );
    expect(() =>
      computeTypeFromStackSource('LinuxArmBuildImage.X computeType: ComputeType.LARGE'),
    ).toThrow('no price');
  });
});
