import { readFileSync, writeFileSync } from 'node:fs';
import type { Stack } from 'aws-cdk-lib';
import { buildApp } from '#testkit/synthesized.ts';

/**
 * The deployable shape of a synthesized app, for proving that a refactor of the stack code
 * changes no CloudFormation logical id: every resource's type, properties and policies, every
 * output, per stack and config variant. Asset hashes are masked (a bundle's bytes may change
 * without its resource changing), CDK metadata is dropped.
 *
 * Usage: `npx tsx test/support/template-shape.ts write before.json` on the old code, then
 * `npx tsx test/support/template-shape.ts compare before.json` on the new; compare exits 1 and
 * lists every difference when there is one.
 */

/** The config variants whose templates differ in which resources exist. */
export const VARIANTS: Readonly<Record<string, Record<string, unknown>>> = {
  default: {},
  https: {
    certificateArn:
      'arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-123456789abc',
    domainName: 'blog.example.com',
  },
  waf: { enableWaf: 'true' },
  alarms: { alarmEmail: 'ops@example.com' },
  threeZones: { azCount: '3', natGateways: '3' },
  sized: {
    logRetentionDays: 90,
    dbMultiAz: true,
    dbInstanceClass: 'db.m7g.large',
    desiredCount: 3,
    image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/x@sha256:'.padEnd(119, 'a'),
  },
};

type Shape = Record<string, Record<string, unknown>>;

const ASSET_HASH = /[0-9a-f]{64}/g;

function mask(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value).replace(ASSET_HASH, '<asset-hash>'));
}

/** Resource and output entries of one synthesized stack, keyed `Resources.<id>` / `Outputs.<id>`. */
export function stackShape(template: Record<string, unknown>): Shape {
  const shape: Shape = {};
  const resources = (template.Resources ?? {}) as Record<string, Record<string, unknown>>;
  for (const [id, resource] of Object.entries(resources)) {
    const { Metadata: _metadata, ...rest } = resource;
    shape[`Resources.${id}`] = mask(rest) as Record<string, unknown>;
  }
  const outputs = (template.Outputs ?? {}) as Record<string, Record<string, unknown>>;
  for (const [id, output] of Object.entries(outputs)) {
    shape[`Outputs.${id}`] = mask(output) as Record<string, unknown>;
  }
  return shape;
}

/** Every variant's stacks, synthesized in-process (bundling skipped: hashes are masked anyway). */
export function appShape(): Record<string, Shape> {
  const result: Record<string, Shape> = {};
  for (const [variant, context] of Object.entries(VARIANTS)) {
    const { app, application, pipeline } = buildApp({
      region: 'eu-west-1',
      'aws:cdk:bundling-stacks': [],
      ...context,
    });
    const assembly = app.synth();
    for (const stack of [application, pipeline] as Stack[]) {
      result[`${variant}/${stack.stackName}`] = stackShape(
        assembly.getStackByName(stack.stackName).template,
      );
    }
  }
  return result;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The leaf paths at which two JSON values differ, each with both values. */
function valueDifferences(path: string, was: unknown, is: unknown): string[] {
  if (isObject(was) && isObject(is)) {
    return [...new Set([...Object.keys(was), ...Object.keys(is)])].flatMap((field) =>
      valueDifferences(`${path}.${field}`, was[field], is[field]),
    );
  }
  if (Array.isArray(was) && Array.isArray(is) && was.length === is.length) {
    return was.flatMap((item, index) => valueDifferences(`${path}[${index}]`, item, is[index]));
  }
  const a = JSON.stringify(was);
  const b = JSON.stringify(is);
  return a === b ? [] : [`${path}:\n  - ${a}\n  + ${b}`];
}

/** Human-readable differences between two shapes: missing/added ids, type and property changes. */
export function compareShapes(
  before: Record<string, Shape>,
  after: Record<string, Shape>,
): string[] {
  const differences: string[] = [];
  for (const stack of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const old = before[stack] ?? {};
    const now = after[stack] ?? {};
    for (const key of new Set([...Object.keys(old), ...Object.keys(now)])) {
      const was = old[key];
      const is = now[key];
      if (was === undefined) differences.push(`${stack} ${key}: added (${String(is?.Type)})`);
      else if (is === undefined) differences.push(`${stack} ${key}: removed (${String(was.Type)})`);
      else if (was.Type !== is.Type)
        differences.push(`${stack} ${key}: type ${String(was.Type)} -> ${String(is.Type)}`);
      else differences.push(...valueDifferences(`${stack} ${key}`, was, is));
    }
  }
  return differences;
}

function main(argv: readonly string[]): number {
  const [command, file] = argv;
  if ((command !== 'write' && command !== 'compare') || file === undefined) {
    console.error('usage: template-shape.ts write|compare <file.json>');
    return 2;
  }
  const shape = appShape();
  if (command === 'write') {
    writeFileSync(file, `${JSON.stringify(shape, null, 1)}\n`);
    const count = Object.values(shape).reduce((sum, s) => sum + Object.keys(s).length, 0);
    console.log(`wrote ${count} entries of ${Object.keys(shape).length} stacks to ${file}`);
    return 0;
  }
  const differences = compareShapes(JSON.parse(readFileSync(file, 'utf8')), shape);
  for (const difference of differences) console.log(difference);
  console.log(`${differences.length} difference(s)`);
  return differences.length === 0 ? 0 : 1;
}

if (process.argv[1]?.endsWith('template-shape.ts')) process.exitCode = main(process.argv.slice(2));
