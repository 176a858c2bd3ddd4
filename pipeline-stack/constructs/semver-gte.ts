/**
 * Stands in for the `semver` package in Lambda bundles (esbuild alias, see StepFunction).
 * aws-xray-sdk-core requires all of semver (30 KiB minified, an eighth of a bundle) for one
 * call, `semver.gte(AWS.VERSION, '2.7.15')` in its AWS SDK v2 patcher (`captureAWS`), which
 * these functions never reach: they capture SDK v3 clients only. This keeps that call correct
 * (SemVer 2.0.0 precedence) without the rest of the package.
 */

const VERSION =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$/;

interface Parsed {
  readonly core: readonly [number, number, number];
  readonly pre: readonly string[];
}

function parse(version: string): Parsed {
  const m = VERSION.exec(String(version).trim());
  // semver throws a TypeError on an invalid version; so does this.
  if (!m) throw new TypeError(`Invalid Version: ${version}`);
  return {
    core: [Number(m[1]), Number(m[2]), Number(m[3])],
    pre: m[4] ? m[4].split('.') : [],
  };
}

function compareIdentifiers(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) return Math.sign(Number(a) - Number(b));
  if (an) return -1;
  if (bn) return 1;
  return a === b ? 0 : a < b ? -1 : 1;
}

/** SemVer precedence: -1, 0 or 1. Build metadata is ignored, as semver does. */
export function compare(a: string, b: string): number {
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) {
    const d = Math.sign((x.core[i] as number) - (y.core[i] as number));
    if (d !== 0) return d;
  }
  // A pre-release sorts before its release.
  if (x.pre.length === 0 && y.pre.length === 0) return 0;
  if (x.pre.length === 0) return 1;
  if (y.pre.length === 0) return -1;
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i];
    const q = y.pre[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    const d = compareIdentifiers(p, q);
    if (d !== 0) return d;
  }
  return 0;
}

/** `semver.gte`: is `a` the same version as `b` or a later one? */
export function gte(a: string, b: string): boolean {
  return compare(a, b) >= 0;
}
