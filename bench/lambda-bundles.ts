/**
 * Lambda bundles: each functions/<step>/handler.ts bundled with esbuild the way CDK's
 * NodejsFunction bundles it for the StepFunction construct (options read from
 * pipeline-stack/constructs/step-function.ts), its size, and its cold-start module load
 * measured in fresh `node` processes against an empty module's load in the same run.
 *
 * Usage: npx tsx bench/lambda-bundles.ts [--runs 15]   (writes bench/results/lambda-bundles.json)
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { type EnvironmentSchema, noEnvironment } from '#commons/env.ts';
import { figure, type SectionResult } from './lib/figures.ts';
import { isMain, runRepeatedSection } from './lib/section.ts';
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
  /** esbuild `sourcesContent` (CDK's default: true). */
  readonly sourcesContent: boolean;
  readonly memoryMb: number;
  readonly nodeOptions?: string;
  readonly externals: readonly string[];
  /** esbuild `alias` from the construct's `esbuildArgs` (`--alias`: `name=./path`). */
  readonly alias: Readonly<Record<string, string>>;
}

/**
 * Reads the bundling settings from the construct's source. Pure. Externals are the
 * construct's `externalModules`, or else what CDK uses for a Node 18+ runtime: `@aws-sdk/*`
 * (plus `@smithy/*` when the feature flag `@aws-cdk/aws-lambda-nodejs:sdkV3ExcludeSmithyPackages`
 * is on).
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
  const externalModules = /\bexternalModules:\s*\[([^\]]*)\]/.exec(source)?.[1];
  const alias: Record<string, string> = {};
  const aliasArg = /'--alias':\s*`([^`]*)`/.exec(source)?.[1];
  if (aliasArg) {
    // The construct spells the stand-in's path through a constant of the same file.
    const resolved = aliasArg.replace(/\$\{(\w+)\}/g, (_, name: string) => {
      const value = new RegExp(`\\b${name}\\s*=\\s*'([^']*)'`).exec(source)?.[1];
      if (value === undefined) throw new Error(`step-function.ts does not define ${name}`);
      return value;
    });
    const [name, path] = resolved.split('=');
    if (!name || !path) throw new Error(`step-function.ts has an --alias without name=path`);
    alias[name] = path;
  }
  return {
    target,
    format: /OutputFormat\.ESM/.test(source) ? 'esm' : 'cjs',
    minify: flag('minify'),
    keepNames: flag('keepNames'),
    sourceMap: flag('sourceMap'),
    sourcesContent: !/\bsourcesContent:\s*false\b/.test(source),
    memoryMb: Number(memory),
    ...(nodeOptions !== undefined ? { nodeOptions } : {}),
    externals: externalModules
      ? [...externalModules.matchAll(/'([^']+)'/g)].map((m) => m[1] as string)
      : excludeSmithy
        ? ['@aws-sdk/*', '@smithy/*']
        : ['@aws-sdk/*'],
    alias,
  };
}

/** The issue's targets for a step that does not speak MySQL (issue 14, item 3). */
export const BUNDLE_TARGET_KIB = 250;
export const LOAD_TARGET_RATIO = 2.5;

/** Bytes of one bundle's output by where they come from: a package or a project folder. */
export interface InputShare {
  readonly input: string;
  readonly bytes: number;
}

/**
 * Groups an esbuild metafile output's inputs by package (`node_modules/<pkg>`) or, for the
 * project's own files, by folder (`functions/commons`), largest first. Pure.
 */
export function inputShares(
  inputs: Readonly<Record<string, { readonly bytesInOutput: number }>>,
): InputShare[] {
  const by = new Map<string, number>();
  for (const [file, { bytesInOutput }] of Object.entries(inputs)) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1];
    const key =
      pkg ??
      file
        .replace(/^(\.\.\/)+[^/]+\//, '')
        .split('/')
        .slice(0, 2)
        .join('/');
    by.set(key, (by.get(key) ?? 0) + bytesInOutput);
  }
  return [...by]
    .map(([input, bytes]) => ({ input, bytes }))
    .filter((s) => s.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes);
}

/**
 * Stand-in values for the variables a handler's `environmentSchema` declares, each the first
 * of a name-like string or `1` that the variable's own schema accepts, so its module can load
 * at cold start. Pure.
 */
export function envFromSchema(schema: EnvironmentSchema): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, variable] of Object.entries(schema.shape)) {
    const value = [`bench-${name.toLowerCase()}`, '1'].find((v) => variable.safeParse(v).success);
    if (value === undefined) throw new Error(`no stand-in value satisfies ${name}`);
    env[name] = value;
  }
  return env;
}

/** The environment a step's handler declares (`functions/<step>/env.ts`), none without one. */
async function stepEnvironment(step: string): Promise<EnvironmentSchema> {
  const file = join(ROOT, 'functions', step, 'env.ts');
  if (!existsSync(file)) return noEnvironment;
  return ((await import(pathToFileURL(file).href)) as { environmentSchema: EnvironmentSchema })
    .environmentSchema;
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

/**
 * Bundles one functions/<step>/handler.ts to `outfile` with the construct's settings, as
 * NodejsFunction would, and returns esbuild's metafile. Put `outfile` under node_modules so
 * the bundle's external SDK packages resolve to the project's.
 */
export function bundleStep(
  step: string,
  settings: BundlingSettings,
  outfile: string,
): Promise<Metafile> {
  return bundleEntry(join(ROOT, 'functions', step, 'handler.ts'), settings, outfile);
}

/** Bundles any entry file as {@link bundleStep} bundles a handler. */
async function bundleEntry(
  entry: string,
  settings: BundlingSettings,
  outfile: string,
): Promise<Metafile> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: settings.target,
    format: settings.format,
    outfile,
    minify: settings.minify,
    keepNames: settings.keepNames,
    sourcemap: settings.sourceMap,
    sourcesContent: settings.sourcesContent,
    external: [...settings.externals],
    alias: { ...settings.alias },
    absWorkingDir: ROOT,
    metafile: true,
    logLevel: 'silent',
  });
  return result.metafile;
}

/** The construct's bundling settings, read from its source and cdk.json. */
export async function constructBundling(): Promise<BundlingSettings> {
  return bundlingFromConstruct(await readFile(CONSTRUCT, 'utf8'), await excludeSmithyFlag());
}

/** Who may import a stand-in the construct aliases a package to (see StepFunction). */
const STAND_IN_IMPORTERS: Readonly<Record<string, RegExp>> = {
  semver: /node_modules\/aws-xray-sdk-core\/dist\/lib\/patchers\/aws_p\.js$/,
};

/** The functions/commons/clients modules among a bundle's inputs, sorted (`ecs`, `elbv2`). Pure. */
export function commonsClients(inputs: readonly string[]): string[] {
  const clients = inputs.flatMap((file) => {
    const m = /(?:^|\/)functions\/commons\/clients\/([a-z0-9-]+)\.ts$/.exec(file);
    return m ? [m[1] as string] : [];
  });
  return [...new Set(clients)].sort();
}

/**
 * The entry of a floor module: Powertools' shared logger, metrics and tracer, and the named
 * functions/commons/clients modules, re-exported so the bundler keeps them. Pure.
 */
export function floorEntry(root: string, clients: readonly string[]): string {
  const from = (path: string) => JSON.stringify(join(root, 'functions/commons', path));
  return [
    `export { logger, metrics, tracer } from ${from('powertools.ts')};`,
    ...clients.map((c, i) => `export * as client${i} from ${from(`clients/${c}.ts`)};`),
    '',
  ].join('\n');
}

const kib = (bytes: number) => Math.round((bytes / 1024) * 10) / 10;
const sharesText = (shares: readonly InputShare[], n: number) =>
  shares
    .slice(0, n)
    .map((x) => `${x.input} ${kib(x.bytes)}`)
    .join(', ');

/** Bundles every step, measures sizes and module-load times; returns the section. */
export async function runLambdaBundles(opts: { runs?: number } = {}): Promise<SectionResult> {
  const runs = opts.runs ?? 15;
  const started = nowMs();
  const settings = await constructBundling();
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
    mysql: boolean;
    shares: InputShare[];
    /** The runtime-provided packages the bundle requires (external `@aws-sdk/*`). */
    sdk: string[];
    sdkModule?: string;
    /** The functions/commons/clients modules the bundle holds (`ecs`, `elbv2`, …). */
    clients: string[];
    floorKey?: string;
  }[] = [];
  const failed: { step: string; reason: string }[] = [];
  const standInProblems: string[] = [];
  for (const step of steps) {
    const outfile = join(OUT_DIR, step, settings.format === 'esm' ? 'index.mjs' : 'index.js');
    try {
      const t = nowMs();
      const metafile = await bundleStep(step, settings, outfile);
      const buildMs = nowMs() - t;
      const code = await readFile(outfile);
      const mapBytes = settings.sourceMap ? (await stat(`${outfile}.map`)).size : 0;
      const output = Object.values(metafile.outputs).find((o) => o.entryPoint);
      if (!output) throw new Error('esbuild wrote no output for the entry point');
      for (const [file, input] of Object.entries(metafile.inputs))
        for (const i of input.imports)
          if (i.original && i.original in settings.alias) {
            const allowed = STAND_IN_IMPORTERS[i.original];
            if (!allowed?.test(file))
              standInProblems.push(
                `${step}: ${file} imports ${i.original}, which the bundle replaces with ${settings.alias[i.original]}`,
              );
          }
      bundles.push({
        step,
        file: outfile,
        env: envFromSchema(await stepEnvironment(step)),
        bytes: code.length,
        mapBytes,
        gzipBytes: gzipSync(code).length,
        buildMs,
        mysql: Object.keys(output.inputs).some((f) => /node_modules\/mysql2\//.test(f)),
        clients: commonsClients(Object.keys(output.inputs)),
        shares: inputShares(output.inputs),
        sdk: [
          ...new Set(
            output.imports
              .filter((i) => i.external && i.path.startsWith('@aws-sdk/'))
              .map((i) => i.path),
          ),
        ].sort(),
      });
    } catch (error) {
      failed.push({
        step,
        reason: error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error),
      });
    }
  }
  // What the runtime-provided SDK alone costs each bundle: a module requiring just the
  // external packages it requires, in the same interleaved runs. The bundle cannot go below it
  // while the SDK stays external (client construction comes on top).
  const sdkModules = new Map<string, string>();
  for (const b of bundles) {
    if (b.sdk.length === 0) continue;
    const key = b.sdk.join(' ');
    let file = sdkModules.get(key);
    if (!file) {
      file = join(OUT_DIR, `sdk-${sdkModules.size}.cjs`);
      await writeFile(file, b.sdk.map((m) => `require(${JSON.stringify(m)});\n`).join(''));
      sdkModules.set(key, file);
    }
    b.sdkModule = file;
  }

  // The floor of a step: what every step must load before its own code, bundled alike:
  // Powertools' logger, metrics and tracer, and the SDK clients the step creates, each
  // constructed and captured by the tracer as functions/commons/clients/ does.
  const floors = new Map<string, { file: string; clients: string[] }>();
  for (const b of bundles) {
    // A step that makes its own SDK client (generate-salts) has no floor of this shape.
    if (b.sdk.length > 0 && b.clients.length === 0) continue;
    const key = b.clients.join(' ') || 'no SDK client';
    if (!floors.has(key)) {
      const dir = join(OUT_DIR, `floor-${floors.size}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'entry.ts'), floorEntry(ROOT, b.clients));
      const file = join(dir, settings.format === 'esm' ? 'index.mjs' : 'index.js');
      try {
        await bundleEntry(join(dir, 'entry.ts'), settings, file);
        floors.set(key, { file, clients: b.clients });
      } catch (error) {
        failed.push({
          step: `floor ${key}`,
          reason: error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error),
        });
      }
    }
    if (floors.has(key)) b.floorKey = key;
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
  // One warm-up pass fills the OS page cache for every file, then runs interleave bundles,
  // the SDK-only modules and the empty module so drift on a noisy machine hits them alike.
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
  for (const file of sdkModules.values()) {
    await loadOnce(file, envOf());
    samples.set(file, []);
  }
  for (const { file } of floors.values()) {
    await loadOnce(file, envOf());
    samples.set(file, []);
  }
  await loadOnce(join(OUT_DIR, 'empty.js'), envOf());
  for (let i = 0; i < runs; i++) {
    for (const { file } of floors.values()) samples.get(file)?.push(await loadOnce(file, envOf()));
    samples.get('(empty module)')?.push(await loadOnce(join(OUT_DIR, 'empty.js'), envOf()));
    for (const b of loadable) samples.get(b.step)?.push(await loadOnce(b.file, envOf(b)));
    for (const file of sdkModules.values()) samples.get(file)?.push(await loadOnce(file, envOf()));
  }
  const emptyWall = median((samples.get('(empty module)') ?? []).map((s) => s.wallMs));
  const emptyLoad = median((samples.get('(empty module)') ?? []).map((s) => s.loadMs));
  const yardstick = {
    name: 'fresh node process loading an empty module (median)',
    value: emptyWall,
    unit: 'ms',
  };
  const sizeTarget = {
    on: 'value' as const,
    max: BUNDLE_TARGET_KIB,
    text: `≤ ${BUNDLE_TARGET_KIB} KiB minified`,
  };
  const loadTarget = {
    on: 'ratio' as const,
    max: LOAD_TARGET_RATIO,
    text: `≤ ${LOAD_TARGET_RATIO}x an empty module's load`,
  };

  const rows = bundles.map((b) => {
    const s = samples.get(b.step);
    const wall = s && s.length > 0 ? summarize(s.map((x) => x.wallMs)) : undefined;
    const load = s && s.length > 0 ? summarize(s.map((x) => x.loadMs)) : undefined;
    const sdk = b.sdkModule ? samples.get(b.sdkModule) : undefined;
    const sdkWall = sdk && sdk.length > 0 ? median(sdk.map((x) => x.wallMs)) : null;
    const floor = b.floorKey ? floors.get(b.floorKey) : undefined;
    const floorSamples = floor ? samples.get(floor.file) : undefined;
    const floorWall =
      floorSamples && floorSamples.length > 0 ? median(floorSamples.map((x) => x.wallMs)) : null;
    return {
      step: b.step,
      mysql: b.mysql,
      bytes: b.bytes,
      gzipBytes: b.gzipBytes,
      mapBytes: b.mapBytes,
      buildMs: round(b.buildMs, 3),
      processMedianMs: wall ? round(wall.median, 4) : null,
      processP90Ms: wall ? round(wall.p90, 4) : null,
      requireMedianMs: load ? round(load.median, 4) : null,
      requireAboveEmptyMs: load ? round(load.median - emptyLoad, 4) : null,
      ratioToEmpty: wall ? round(wall.median / emptyWall, 4) : null,
      sdk: b.sdk,
      sdkOnlyProcessMedianMs: sdkWall !== null ? round(sdkWall, 4) : null,
      sdkOnlyRatioToEmpty: sdkWall !== null ? round(sdkWall / emptyWall, 4) : null,
      clients: b.clients,
      floorProcessMedianMs: floorWall !== null ? round(floorWall, 4) : null,
      floorRatioToEmpty: floorWall !== null ? round(floorWall / emptyWall, 4) : null,
      ratioToFloor: floorWall !== null && wall ? round(wall.median / floorWall, 4) : null,
      topInputs: b.shares.slice(0, 12).map((x) => ({ input: x.input, kib: kib(x.bytes) })),
    };
  });
  const measured = rows.filter((r) => r.processMedianMs !== null);
  const figures = [];
  const plain = rows.filter((r) => !r.mysql);
  if (plain.length > 0) {
    const largest = plain.reduce((a, b) => (a.bytes >= b.bytes ? a : b));
    figures.push(
      figure({
        name: `largest bundle not speaking MySQL (${largest.step})`,
        value: kib(largest.bytes),
        unit: 'KiB',
        target: sizeTarget,
      }),
    );
  }
  const plainMeasured = measured.filter((r) => !r.mysql);
  if (plainMeasured.length > 0) {
    const worst = plainMeasured.reduce((a, b) =>
      (a.processMedianMs ?? 0) >= (b.processMedianMs ?? 0) ? a : b,
    );
    figures.push(
      figure({
        name: `slowest cold module load not speaking MySQL (${worst.step})`,
        value: worst.processMedianMs as number,
        unit: 'ms',
        yardstick,
        target: loadTarget,
      }),
    );
  }
  for (const [key, floor] of floors) {
    const s = samples.get(floor.file) ?? [];
    if (s.length === 0) continue;
    figures.push(
      figure({
        name: `floor: Powertools and the SDK clients alone (${key}) cold module load`,
        value: round(median(s.map((x) => x.wallMs)), 4),
        unit: 'ms',
        yardstick,
        note: `logger, metrics and tracer, and ${floor.clients.length > 0 ? `the ${floor.clients.join(', ')} client(s) constructed and captured by the tracer` : 'no SDK client'}, bundled with the steps' settings: what any step holding these clients loads before its own code`,
      }),
    );
  }
  for (const r of rows) {
    const mysqlNote = r.mysql ? 'speaks MySQL (mysql2): measured, no target; ' : '';
    figures.push(
      figure({
        name: `${r.step} bundle size`,
        value: kib(r.bytes),
        unit: 'KiB',
        ...(r.mysql ? {} : { target: sizeTarget }),
        note: `${mysqlNote}${kib(r.gzipBytes)} KiB gzip, map ${kib(r.mapBytes)} KiB; top inputs (KiB): ${sharesText(bundles.find((b) => b.step === r.step)?.shares ?? [], 5)}`,
      }),
    );
    if (r.processMedianMs === null) continue;
    figures.push(
      figure({
        name: `${r.step} cold module load (process)`,
        value: r.processMedianMs,
        unit: 'ms',
        yardstick,
        ...(r.mysql ? {} : { target: loadTarget }),
        note:
          `${mysqlNote}require ${r.requireMedianMs} ms` +
          (r.sdkOnlyProcessMedianMs !== null
            ? `; the runtime-provided SDK alone (${r.sdk.join(' ')}): ${r.sdkOnlyProcessMedianMs} ms (x${r.sdkOnlyRatioToEmpty})`
            : '; requires no SDK package') +
          (r.floorProcessMedianMs !== null
            ? `; its floor (Powertools + ${r.clients.join(' ') || 'no'} SDK clients): ${r.floorProcessMedianMs} ms (x${r.floorRatioToEmpty}), the step x${r.ratioToFloor} its floor`
            : ''),
      }),
    );
  }
  const problems = [
    ...failed.map((f) => `bundle ${f.step}: ${f.reason}`),
    ...loadFailed.map((f) => `load ${f.step}: ${f.reason}`),
    ...standInProblems,
  ];
  const aliasText = Object.entries(settings.alias)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return {
    id: 'lambda',
    title: 'Lambda bundles',
    status: problems.length === 0 ? 'measured' : measured.length > 0 ? 'partial' : 'not measured',
    ...(problems.length > 0 ? { reason: problems.join('; ') } : {}),
    method:
      `Each functions/<step>/handler.ts bundled with esbuild as NodejsFunction does for the StepFunction construct ` +
      `(platform node, target ${settings.target}, ${settings.format}, minify ${settings.minify}, keepNames ${settings.keepNames}, ` +
      `sourcemap ${settings.sourceMap}, sourcesContent ${settings.sourcesContent}, external ${settings.externals.join(' ')}` +
      `${aliasText ? `, alias ${aliasText}` : ''}); its metafile gives the bytes each package or project folder puts in the bundle. ` +
      `Cold module load = wall time of a fresh \`node\` process (NODE_OPTIONS=${settings.nodeOptions ?? ''}) that requires the bundle, ` +
      `which creates the SDK clients, logger, metrics and tracer at module scope as in Lambda (nothing is deferred to the first ` +
      `invocation); median of ${runs} runs interleaved with the yardstick (the same process requiring an empty module) and with a ` +
      `module that requires only the bundle's runtime-provided SDK packages, and with each step's floor: Powertools' logger, ` +
      `metrics and tracer and the SDK clients the step holds (functions/commons/clients), constructed and captured, bundled alike. Environment variables the handler reads at cold start ` +
      `get stand-in values; the AWS SDK comes from the project's node_modules as the Lambda runtime provides its own. ` +
      `Targets (issue 14): every step that does not speak MySQL at most ${BUNDLE_TARGET_KIB} KiB minified and at most ` +
      `${LOAD_TARGET_RATIO}x the empty module's load; the steps that speak MySQL are measured without a target.`,
    figures,
    tables: [
      {
        title:
          'Bundles: size, load and the inputs that weigh most (esbuild metafile, KiB in the minified output)',
        headers: [
          'step',
          'KiB',
          'gzip KiB',
          'map KiB',
          'load ms',
          'ratio',
          'SDK alone ms (ratio)',
          'floor ms (ratio)',
          'step / floor',
          'top inputs (KiB)',
        ],
        rows: rows.map((r) => [
          r.mysql ? `${r.step} (MySQL)` : r.step,
          String(kib(r.bytes)),
          String(kib(r.gzipBytes)),
          String(kib(r.mapBytes)),
          r.processMedianMs !== null ? r.processMedianMs.toFixed(0) : '—',
          r.ratioToEmpty !== null ? `x${r.ratioToEmpty.toFixed(2)}` : '—',
          r.sdkOnlyProcessMedianMs !== null
            ? `${r.sdkOnlyProcessMedianMs.toFixed(0)} (x${(r.sdkOnlyRatioToEmpty ?? 0).toFixed(2)})`
            : 'none',
          r.floorProcessMedianMs !== null
            ? `${r.floorProcessMedianMs.toFixed(0)} (x${(r.floorRatioToEmpty ?? 0).toFixed(2)})`
            : '—',
          r.ratioToFloor !== null ? `x${r.ratioToFloor.toFixed(2)}` : '—',
          sharesText(bundles.find((b) => b.step === r.step)?.shares ?? [], 6),
        ]),
      },
    ],
    details: {
      settings,
      targets: { bundleKiB: BUNDLE_TARGET_KIB, loadRatio: LOAD_TARGET_RATIO },
      emptyModule: { processMedianMs: round(emptyWall, 4), requireMedianMs: round(emptyLoad, 4) },
      bundles: rows,
      problems,
    },
    durationMs: round(nowMs() - started, 4),
  };
}

if (isMain(import.meta.url)) await runRepeatedSection('lambda-bundles', runLambdaBundles);
