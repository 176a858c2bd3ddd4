/**
 * Lambda bundles: each functions/<step>/handler.ts bundled with esbuild the way CDK's
 * NodejsFunction bundles it for the StepFunction construct (options read from
 * pipeline-stack/constructs/step-function.ts), its size, and its cold-start module load
 * measured in fresh `node` processes against an empty module's load in the same run.
 *
 * Usage: npx tsx bench/lambda-bundles.ts [--runs 15]   (writes bench/results/lambda-bundles.json)
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { figure, type SectionResult } from './lib/figures.ts';
import { isMain, writeSectionJson } from './lib/section.ts';
import { median, round, summarize } from './lib/stats.ts';
import { nowMs } from './lib/timing.ts';

const ROOT = resolve(import.meta.dirname, '..');
const CONSTRUCT = join(ROOT, 'pipeline-stack/constructs/step-function.ts');
// Inside node_modules so `require('@aws-sdk/...')` from a bundle resolves to the project's
// SDK, as the Lambda Node runtime provides its own; and out of git's way.
const OUT_DIR = join(ROOT, 'node_modules/.cache/stepdeploy-bench/lambda-bundles');

/** The NodejsFunction bundling settings of the StepFunction construct. */
export interface BundlingSettings {
  readonly target: string;
  readonly format: 'cjs' | 'esm';
  readonly minify: boolean;
  readonly keepNames: boolean;
  readonly sourceMap: boolean;
  readonly memoryMb: number;
  readonly nodeOptions?: string;
  readonly externals: readonly string[];
}

/**
 * Reads the bundling settings from the construct's source. Pure. Externals are what CDK uses
 * for a Node 18+ runtime: `@aws-sdk/*` (plus `@smithy/*` when the feature flag
 * `@aws-cdk/aws-lambda-nodejs:sdkV3ExcludeSmithyPackages` is on).
 */
export function bundlingFromConstruct(source: string, excludeSmithy = false): BundlingSettings {
  const flag = (name: string) => {
    const m = new RegExp(`\\b${name}:\\s*(true|false)\\b`).exec(source);
    if (!m) throw new Error(`step-function.ts sets no bundling ${name}`);
    return m[1] === 'true';
  };
  const target = /\btarget:\s*'([a-z0-9.]+)'/.exec(source)?.[1];
  if (!target) throw new Error('step-function.ts sets no bundling target');
  // The construct's default (a step may override it; the release's steps do not).
  const memory = /\bmemorySize:\s*(?:props\.memorySize\s*\?\?\s*)?(\d+)/.exec(source)?.[1];
  if (!memory) throw new Error('step-function.ts sets no memorySize');
  const nodeOptions = /NODE_OPTIONS:\s*'([^']*)'/.exec(source)?.[1];
  return {
    target,
    format: /OutputFormat\.ESM/.test(source) ? 'esm' : 'cjs',
    minify: flag('minify'),
    keepNames: flag('keepNames'),
    sourceMap: flag('sourceMap'),
    memoryMb: Number(memory),
    ...(nodeOptions !== undefined ? { nodeOptions } : {}),
    externals: excludeSmithy ? ['@aws-sdk/*', '@smithy/*'] : ['@aws-sdk/*'],
  };
}

/**
 * The environment variables a handler reads through `readEnv({...})` at cold start, with
 * stand-in values of the right kind (a number for 'number'), so its module can load. Pure.
 */
export function envFromHandler(source: string): Record<string, string> {
  const call = /readEnv\(\s*\{([\s\S]*?)\}\s*\)/.exec(source)?.[1];
  if (!call) return {};
  const env: Record<string, string> = {};
  for (const m of call.matchAll(/([A-Z][A-Z0-9_]*)\s*:\s*'(string|number)'/g))
    env[m[1] as string] = m[2] === 'number' ? '1' : `bench-${(m[1] as string).toLowerCase()}`;
  return env;
}

const LOADER = `const t0 = process.hrtime.bigint();
require(process.argv[2]);
const t1 = process.hrtime.bigint();
process.stdout.write(JSON.stringify({ loadMs: Number(t1 - t0) / 1e6 }));
`;

interface LoadSample {
  wallMs: number;
  loadMs: number;
}

function loadOnce(file: string, env: NodeJS.ProcessEnv): Promise<LoadSample> {
  return new Promise((res, rej) => {
    const started = nowMs();
    execFile(
      process.execPath,
      [join(OUT_DIR, 'loader.cjs'), file],
      { env, timeout: 60_000 },
      (err, stdout, stderr) => {
        const wallMs = nowMs() - started;
        if (err) return rej(new Error(`loading ${file} failed: ${stderr.trim() || err.message}`));
        try {
          res({ wallMs, loadMs: (JSON.parse(stdout) as { loadMs: number }).loadMs });
        } catch {
          rej(new Error(`loading ${file} printed no timing: ${stdout.slice(0, 200)}`));
        }
      },
    );
  });
}

async function excludeSmithyFlag(): Promise<boolean> {
  const cdk = JSON.parse(await readFile(join(ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdk.context?.['@aws-cdk/aws-lambda-nodejs:sdkV3ExcludeSmithyPackages'] === true;
}

/** Bundles every step, measures sizes and module-load times; returns the section. */
export async function runLambdaBundles(opts: { runs?: number } = {}): Promise<SectionResult> {
  const runs = opts.runs ?? 15;
  const started = nowMs();
  const settings = bundlingFromConstruct(
    await readFile(CONSTRUCT, 'utf8'),
    await excludeSmithyFlag(),
  );
  const steps = (await readdir(join(ROOT, 'functions'), { withFileTypes: true }))
    .filter((d) => d.isDirectory() && d.name !== 'commons')
    .map((d) => d.name)
    .sort();
  await rm(OUT_DIR, { recursive: true, force: true });
  await mkdir(OUT_DIR, { recursive: true });
  await writeFile(join(OUT_DIR, 'loader.cjs'), LOADER);
  await writeFile(join(OUT_DIR, 'empty.js'), '');

  const bundles: {
    step: string;
    file: string;
    env: Record<string, string>;
    bytes: number;
    mapBytes: number;
    gzipBytes: number;
    buildMs: number;
  }[] = [];
  const failed: { step: string; reason: string }[] = [];
  for (const step of steps) {
    const entry = join(ROOT, 'functions', step, 'handler.ts');
    const outfile = join(OUT_DIR, step, settings.format === 'esm' ? 'index.mjs' : 'index.js');
    try {
      const t = nowMs();
      await build({
        entryPoints: [entry],
        bundle: true,
        platform: 'node',
        target: settings.target,
        format: settings.format,
        outfile,
        minify: settings.minify,
        keepNames: settings.keepNames,
        sourcemap: settings.sourceMap,
        external: [...settings.externals],
        absWorkingDir: ROOT,
        logLevel: 'silent',
      });
      const buildMs = nowMs() - t;
      const code = await readFile(outfile);
      const mapBytes = settings.sourceMap ? (await stat(`${outfile}.map`)).size : 0;
      bundles.push({
        step,
        file: outfile,
        env: envFromHandler(await readFile(entry, 'utf8')),
        bytes: code.length,
        mapBytes,
        gzipBytes: gzipSync(code).length,
        buildMs,
      });
    } catch (error) {
      failed.push({
        step,
        reason: error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error),
      });
    }
  }

  const baseEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(settings.memoryMb),
    POWERTOOLS_METRICS_NAMESPACE: 'stepdeploy',
    ...(settings.nodeOptions ? { NODE_OPTIONS: settings.nodeOptions } : {}),
  };
  const envOf = (b?: (typeof bundles)[number]) => ({
    ...baseEnv,
    ...(b
      ? { ...b.env, POWERTOOLS_SERVICE_NAME: b.step, AWS_LAMBDA_FUNCTION_NAME: `bench-${b.step}` }
      : {}),
  });
  // One warm-up pass fills the OS page cache for every file, then runs interleave bundles and
  // the empty module so drift on a noisy machine hits them alike.
  const samples = new Map<string, LoadSample[]>([['(empty module)', []]]);
  const loadFailed: { step: string; reason: string }[] = [];
  const loadable = [];
  for (const b of bundles) {
    try {
      await loadOnce(b.file, envOf(b));
      loadable.push(b);
      samples.set(b.step, []);
    } catch (error) {
      loadFailed.push({
        step: b.step,
        reason: error instanceof Error ? error.message.slice(0, 300) : String(error),
      });
    }
  }
  await loadOnce(join(OUT_DIR, 'empty.js'), envOf());
  for (let i = 0; i < runs; i++) {
    samples.get('(empty module)')?.push(await loadOnce(join(OUT_DIR, 'empty.js'), envOf()));
    for (const b of loadable) samples.get(b.step)?.push(await loadOnce(b.file, envOf(b)));
  }
  const emptyWall = median((samples.get('(empty module)') ?? []).map((s) => s.wallMs));
  const emptyLoad = median((samples.get('(empty module)') ?? []).map((s) => s.loadMs));
  const yardstick = {
    name: 'fresh node process loading an empty module (median)',
    value: emptyWall,
    unit: 'ms',
  };

  const rows = bundles.map((b) => {
    const s = samples.get(b.step);
    const wall = s && s.length > 0 ? summarize(s.map((x) => x.wallMs)) : undefined;
    const load = s && s.length > 0 ? summarize(s.map((x) => x.loadMs)) : undefined;
    return {
      step: b.step,
      bytes: b.bytes,
      gzipBytes: b.gzipBytes,
      mapBytes: b.mapBytes,
      buildMs: round(b.buildMs, 3),
      processMedianMs: wall ? round(wall.median, 4) : null,
      processP90Ms: wall ? round(wall.p90, 4) : null,
      requireMedianMs: load ? round(load.median, 4) : null,
      requireAboveEmptyMs: load ? round(load.median - emptyLoad, 4) : null,
      ratioToEmpty: wall ? round(wall.median / emptyWall, 4) : null,
    };
  });
  const measured = rows.filter((r) => r.processMedianMs !== null);
  const figures = measured.map((r) =>
    figure({
      name: `${r.step} cold module load (process)`,
      value: r.processMedianMs as number,
      unit: 'ms',
      yardstick,
      note: `${(r.bytes / 1024).toFixed(0)} KiB minified (${(r.gzipBytes / 1024).toFixed(0)} KiB gzip); require ${r.requireMedianMs} ms`,
    }),
  );
  if (measured.length > 0) {
    const worst = measured.reduce((a, b) =>
      (a.processMedianMs ?? 0) >= (b.processMedianMs ?? 0) ? a : b,
    );
    figures.unshift(
      figure({
        name: `slowest cold module load (${worst.step})`,
        value: worst.processMedianMs as number,
        unit: 'ms',
        yardstick,
      }),
    );
  }
  const problems = [
    ...failed.map((f) => `bundle ${f.step}: ${f.reason}`),
    ...loadFailed.map((f) => `load ${f.step}: ${f.reason}`),
  ];
  return {
    id: 'lambda',
    title: 'Lambda bundles',
    status: problems.length === 0 ? 'measured' : measured.length > 0 ? 'partial' : 'not measured',
    ...(problems.length > 0 ? { reason: problems.join('; ') } : {}),
    method:
      `Each functions/<step>/handler.ts bundled with esbuild as NodejsFunction does for the StepFunction construct ` +
      `(platform node, target ${settings.target}, ${settings.format}, minify ${settings.minify}, keepNames ${settings.keepNames}, ` +
      `sourcemap ${settings.sourceMap}, external ${settings.externals.join(' ')}). Cold module load = wall time of a fresh ` +
      `\`node\` process (NODE_OPTIONS=${settings.nodeOptions ?? ''}) that requires the bundle, median of ${runs} runs interleaved ` +
      `with the yardstick (the same process requiring an empty module). Environment variables the handler reads at cold start ` +
      `get stand-in values; the AWS SDK comes from the project's node_modules as the Lambda runtime provides its own. ` +
      'No target is set by the issue: informative.',
    figures,
    details: {
      settings,
      emptyModule: { processMedianMs: round(emptyWall, 4), requireMedianMs: round(emptyLoad, 4) },
      bundles: rows,
      problems,
    },
    durationMs: round(nowMs() - started, 4),
  };
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
  const section = await runLambdaBundles({ runs: Number(values.runs) });
  await writeSectionJson('lambda-bundles', section);
  for (const f of section.figures) console.log(`${f.name}: ${f.value} ${f.unit} (x${f.ratio})`);
  if (section.reason) console.log(section.reason);
}
