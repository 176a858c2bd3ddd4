import { describe, expect, it } from 'vitest';
import { compare, gte } from '#stack/constructs/semver-gte.ts';

// SemVer 2.0.0 §11's own precedence example, lowest first; the real semver package agrees.
const ordered = [
  '1.0.0-alpha',
  '1.0.0-alpha.1',
  '1.0.0-alpha.beta',
  '1.0.0-beta',
  '1.0.0-beta.2',
  '1.0.0-beta.11',
  '1.0.0-rc.1',
  '1.0.0',
  '2.0.0',
  '2.1.0',
  '2.1.1',
  '10.0.0',
];

describe('semver-gte (stand-in for semver in Lambda bundles)', () => {
  it('orders versions by SemVer precedence', () => {
    // Prepare
    const pairs = ordered.flatMap((a, i) =>
      ordered.map((b, j) => ({ a, b, want: Math.sign(i - j) })),
    );
    // Act
    const got = pairs.map(({ a, b }) => compare(a, b));
    // Assess
    expect(got).toEqual(pairs.map((p) => p.want));
  });

  it.each([
    ['2.7.15', true],
    ['2.1692.0', true],
    ['v2.8.0', true],
    ['2.7.15+build.1', true],
    ['2.7.9', false],
    ['2.7.15-beta.1', false],
    ['1.99.99', false],
  ])("answers aws-xray-sdk-core's check gte(%s, '2.7.15') with %s", (version, want) => {
    // Prepare / Act / Assess
    expect(gte(version, '2.7.15')).toBe(want);
  });

  it('refuses an invalid version with a TypeError, as semver does', () => {
    // Prepare / Act / Assess
    expect(() => gte('not-a-version', '2.7.15')).toThrow(TypeError);
  });
});
