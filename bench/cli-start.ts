/**
 * Command line start: `stepdeploy --help` and `stepdeploy local status` through the real
 * launcher (bin/stepdeploy.js, so the bundle's freshness check is counted), each against a
 * bare `node -e 1` measured in the same run, interleaved with it.
 *
 * Usage: npx tsx bench/cli-start.ts [--runs 15]   (writes bench/results/cli-start.json)
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BUNDLE_DIR, buildBundle, bundleState } from '../bin/cli-bundle.js';
import { figure, notMeasured, type SectionResult, type Target } from './lib/figures.ts';
import { isMain, runRepeatedSection } from './lib/section.ts';
import { median, round, summarize } from './lib/stats.ts';
import { nowMs } from './lib/timing.ts';

const ROOT = resolve(import.meta.dirname, '..');
const LAUNCHER = join(ROOT, 'bin/stepdeploy.js');
// The launcher runs `local …` at this priority unless STEPDEPLOY_NICE says otherwise.
const LOCAL_NICE = 10;

const TARGET: Target = { on: 'ratio', max: 2.5, text: '≤ 2.5× a bare `node -e 1`' };

interface Probe {
  readonly id: string;
  readonly file: string;
  readonly args: readonly string[];
  /** What its stdout must contain, so a command that failed fast is not a fast figure. */
  readonly expect?: string;
}

const PROBES: readonly Probe[] = [
  { id: 'node', file: process.execPath, args: ['-e', '1'] },
  // `local …` lowers its own priority before anything loads; on a busy machine that alone
  // slows it, so its yardstick runs at the same priority.
  {
    id: 'node-nice',
    file: 'nice',
    args: ['-n', String(LOCAL_NICE), process.execPath, '-e', '1'],
  },
  { id: 'help', file: process.execPath, args: [LAUNCHER, '--help'], expect: 'Commands:' },
  {
    id: 'local-status',
    file: process.execPath,
    args: [LAUNCHER, 'local', 'status'],
    expect: 'Local stack',
  },
];

function runOnce(probe: Probe, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((res, rej) => {
    const started = nowMs();
    execFile(probe.file, [...probe.args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      const ms = nowMs() - started;
      if (err) return rej(new Error(`${probe.id}: ${stderr.trim() || err.message}`));
      if (probe.expect && !stdout.includes(probe.expect))
        return rej(new Error(`${probe.id} printed no "${probe.expect}": ${stdout.slice(0, 200)}`));
      // A line on stderr means the launcher rebuilt the bundle or ran tsx: not the normal start.
      if (probe.id !== 'node' && probe.id !== 'node-nice' && stderr.trim())
        return rej(new Error(`${probe.id} wrote to stderr: ${stderr.trim().slice(0, 300)}`));
      res(ms);
    });
  });
}

/** Measures both commands and their yardsticks; returns the section. */
export async function runCliStart(opts: { runs?: number } = {}): Promise<SectionResult> {
  const runs = opts.runs ?? 15;
  const started = nowMs();
  // The normal state after `npm ci`: a bundle built from the sources as they are.
  const before = await bundleState(ROOT);
  if (!before.fresh) await buildBundle({ root: ROOT });
  const home = await mkdtemp(join(tmpdir(), 'sd-bench-cli-'));
  // No stack of this service exists, so `local status` does what it always does (docker
  // queries, state files) and nothing that depends on what else runs on the machine.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    STEPDEPLOY_HOME: home,
    STEPDEPLOY_SERVICE: `bench-cli-${process.pid}`,
    STEPDEPLOY_NICE: String(LOCAL_NICE),
  };
  for (const name of ['NODE_OPTIONS', 'NODE_DEBUG']) delete env[name];
  const samples = new Map<string, number[]>(PROBES.map((p) => [p.id, []]));
  let failure: string | undefined;
  try {
    // One warm-up pass fills the page cache; then rounds interleave every command.
    for (const probe of PROBES) await runOnce(probe, env);
    for (let i = 0; i < runs; i++)
      for (const probe of PROBES) samples.get(probe.id)?.push(await runOnce(probe, env));
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
  const rows = PROBES.map((p) => {
    const s = samples.get(p.id) ?? [];
    const sum = s.length > 0 ? summarize(s) : undefined;
    return {
      command: [p.file === process.execPath ? 'node' : p.file, ...p.args]
        .join(' ')
        .replace(LAUNCHER, 'bin/stepdeploy.js'),
      id: p.id,
      runs: s.length,
      medianMs: sum ? round(sum.median, 4) : null,
      p90Ms: sum ? round(sum.p90, 4) : null,
      minMs: sum ? round(sum.min, 4) : null,
      maxMs: sum ? round(sum.max, 4) : null,
    };
  });
  const med = (id: string) => {
    const s = samples.get(id) ?? [];
    return s.length === runs ? median(s) : null;
  };
  const node = med('node');
  const nodeNice = med('node-nice');
  const measure = (
    name: string,
    id: string,
    yardstick: number | null,
    yardstickName: string,
    note: string,
  ) => {
    const value = med(id);
    return value === null || yardstick === null
      ? notMeasured(name, 'ms', failure ?? 'no samples', TARGET)
      : figure({
          name,
          value,
          unit: 'ms',
          yardstick: { name: yardstickName, value: yardstick, unit: 'ms' },
          target: TARGET,
          note,
        });
  };
  const figures = [
    measure(
      '`stepdeploy --help`',
      'help',
      node,
      'bare `node -e 1` (median)',
      'loads commander and the command declarations only',
    ),
    measure(
      '`stepdeploy local status` (no stack running)',
      'local-status',
      nodeNice,
      `bare \`node -e 1\` at nice ${LOCAL_NICE}, the priority local commands run at (median)`,
      `against the bare \`node -e 1\` at nice 0: ${node !== null && med('local-status') !== null ? `${round((med('local-status') as number) / node, 3)}×` : 'n/a'}`,
    ),
  ];
  return {
    id: 'cli-start',
    title: 'Command line start',
    status: failure
      ? figures.some((f) => f.value !== null)
        ? 'partial'
        : 'not measured'
      : 'measured',
    ...(failure ? { reason: failure } : {}),
    method:
      `Wall time of a fresh process running bin/stepdeploy.js (the launcher: priority, the bundle's freshness ` +
      `check, then ${BUNDLE_DIR} built by esbuild with npm packages external), median of ${runs} runs interleaved with ` +
      'the yardsticks after one warm-up pass. `local status` reads a temporary STEPDEPLOY_HOME for a service with no ' +
      `containers (two docker queries and the state files); local commands run at nice ${LOCAL_NICE}, so its ` +
      'yardstick does too. NODE_OPTIONS is cleared for every process. A run that wrote to stderr (a rebuild, or a ' +
      'fallback to tsx) fails the section rather than being counted.',
    figures,
    details: {
      commands: rows,
      bundle: before.fresh ? 'fresh' : `rebuilt before measuring (${before.reason})`,
    },
    durationMs: round(nowMs() - started, 4),
  };
}

if (isMain(import.meta.url)) await runRepeatedSection('cli-start', runCliStart);
