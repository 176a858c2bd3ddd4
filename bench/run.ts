/**
 * `npm run bench [-- section ...]`: runs the benchmark sections in one process run and writes
 * bench/results/latest.json, REPORT.md and chart.svg. Sections (default: all, in this order):
 *
 *   cli           `stepdeploy --help` and `local status` start    (bench/cli-start.ts)
 *   lambda        Lambda bundle sizes and cold module load        (bench/lambda-bundles.ts)
 *   image         Packer image builds vs a plain Dockerfile build (bench/image-build.ts)
 *   restore       restore vs restore + verify at 10/100/1000 MB   (bench/restore.ts)
 *   transitions   state transitions of a good and a rolled-back release (bench/transitions.ts)
 *   healthy       time to healthy of a good local release         (bench/local-release.ts)
 *   faults        capacity at rest, then releases under load and faults at half of it (bench/faults.ts)
 *   failure       failure detection, time to recover, dropped requests (bench/failure-detection.ts)
 *   cost          cost of a release on AWS                        (bench/cost.ts)
 *
 * Options: --restore-sizes 10,100,1000   --runs 15
 *          --fraction 0.5 (load of the faults scenarios, as a fraction of the capacity at rest)
 *          --rate <n> (requests/s of the failure section's load; default: the same fraction of
 *                     the capacity the faults section measured in this run, else 2)
 */
import { readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runCliStart } from './cli-start.ts';
import { type CostInputs, runCost } from './cost.ts';
import { runFailureDetection } from './failure-detection.ts';
import { runFaultsSection } from './faults.ts';
import { runLambdaBundles } from './lambda-bundles.ts';
import {
  imageBuildSection,
  localReleaseSection,
  restoreSection,
  transitionsSection,
} from './lib/adapters.ts';
import { readFreshJson, runScript } from './lib/child.ts';
import { type SectionResult, sectionNotMeasured } from './lib/figures.ts';
import type { LocalScenarios } from './lib/local-scenarios.ts';
import { isMain, RESULTS_DIR, writeSectionJson } from './lib/section.ts';
import { median } from './lib/stats.ts';
import { type BenchRun, writeReport } from './report.ts';

/** Section ids in run order (cost last: it prices what the others measured). */
export const SECTIONS = [
  'cli',
  'lambda',
  'image',
  'restore',
  'transitions',
  'healthy',
  'faults',
  'failure',
  'cost',
] as const;
/** One selectable section. */
export type SectionId = (typeof SECTIONS)[number];

/** The report sections (SectionResult ids) each bench section writes. */
export const SECTION_RESULTS: Record<SectionId, readonly string[]> = {
  cli: ['cli-start'],
  lambda: ['lambda'],
  image: ['image'],
  restore: ['restore'],
  transitions: ['transitions'],
  healthy: ['time-to-healthy'],
  faults: ['faults'],
  failure: ['failure-detection', 'recovery', 'dropped-requests'],
  cost: ['cost'],
};

/**
 * The report of this run: its own sections, and — so that `npm run bench -- <section>` does
 * not wipe the rest of the report — the sections of the previous report whose bench section
 * this command did not run, each marked with the run it comes from. In SECTIONS order. Pure.
 */
export function withCarriedOver(
  sections: readonly SectionResult[],
  selected: readonly SectionId[],
  previous: Pick<BenchRun, 'startedAt' | 'command' | 'sections'> | undefined,
): SectionResult[] {
  const order = SECTIONS.flatMap((id) => SECTION_RESULTS[id]);
  const ran = new Set(selected.flatMap((id) => SECTION_RESULTS[id]));
  const carried = (previous?.sections ?? [])
    .filter((s) => order.includes(s.id) && !ran.has(s.id) && !sections.some((x) => x.id === s.id))
    .map((s) => ({
      ...s,
      carriedFrom: s.carriedFrom ?? {
        startedAt: previous?.startedAt ?? '',
        command: previous?.command ?? '',
      },
    }));
  const rank = (s: SectionResult) => {
    const i = order.indexOf(s.id);
    return i < 0 ? order.length : i;
  };
  return [...sections, ...carried].sort((a, b) => rank(a) - rank(b));
}

async function previousRun(): Promise<BenchRun | undefined> {
  try {
    return JSON.parse(await readFile(join(RESULTS_DIR, 'latest.json'), 'utf8')) as BenchRun;
  } catch {
    return undefined;
  }
}

/** The sections asked for on the command line (all when none); unknown names are refused. Pure. */
export function selectSections(args: readonly string[]): SectionId[] {
  if (args.length === 0) return [...SECTIONS];
  const unknown = args.filter((a) => !(SECTIONS as readonly string[]).includes(a));
  if (unknown.length > 0)
    throw new Error(`unknown section(s) ${unknown.join(', ')}; choose from ${SECTIONS.join(', ')}`);
  return SECTIONS.filter((s) => args.includes(s));
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** A section measured by a child script: `bench/<script>.ts` writes `<script>.json`, which `adapt` reads. */
interface ChildSection {
  readonly script: string;
  readonly id: string;
  readonly title: string;
  readonly adapt: (json: unknown) => SectionResult;
}

const CHILD_SECTIONS: Partial<Record<SectionId, ChildSection>> = {
  image: { script: 'image-build', id: 'image', title: 'Image build', adapt: imageBuildSection },
  restore: {
    script: 'restore',
    id: 'restore',
    title: 'Restore verification',
    adapt: restoreSection,
  },
  transitions: {
    script: 'transitions',
    id: 'transitions',
    title: 'State transitions',
    adapt: transitionsSection,
  },
  healthy: {
    script: 'local-release',
    id: 'time-to-healthy',
    title: 'Time to healthy',
    adapt: localReleaseSection,
  },
};

/** Runs a child section's script and reads its result; a failed run is a section not measured. */
async function childSection(section: ChildSection, args: string[]): Promise<SectionResult> {
  const script = `${section.script}.ts`;
  const since = Date.now();
  const child = await runScript(script, args);
  const read = await readFreshJson<unknown>(`${section.script}.json`, since);
  if (child.code !== 0 || 'missing' in read) {
    const why =
      child.code === null && child.ms === 0
        ? child.tail
        : child.code !== 0
          ? `bench/${script} exited ${child.code}: ${child.tail}`
          : (read as { missing: string }).missing;
    return {
      ...sectionNotMeasured(section.id, section.title, `bench/${script}`, why),
      durationMs: child.ms,
    };
  }
  return { ...section.adapt(read.data), durationMs: child.ms };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'restore-sizes': { type: 'string', default: '10,100,1000' },
      rate: { type: 'string' },
      fraction: { type: 'string', default: '0.5' },
      runs: { type: 'string', default: '15' },
    },
  });
  const selected = selectSections(positionals);
  const startedAt = new Date().toISOString();
  const host = {
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
    cpus: cpus().length,
    loadavg: loadavg(),
  };
  const sections: SectionResult[] = [];
  let lambda: SectionResult | undefined;
  let local: LocalScenarios | undefined;
  const fraction = Number(values.fraction);
  if (!(fraction > 0 && fraction <= 1))
    throw new Error(`--fraction must be in (0, 1], got ${values.fraction}`);
  let capacity: number | null = null;

  for (const id of selected) {
    log(`== ${id}`);
    const t = Date.now();
    const child = CHILD_SECTIONS[id];
    try {
      if (child) {
        const args = id === 'restore' ? ['--sizes', values['restore-sizes'] ?? '10,100,1000'] : [];
        sections.push(await childSection(child, args));
      } else if (id === 'cli') {
        const section = await runCliStart({ runs: Number(values.runs) });
        await writeSectionJson('cli-start', section);
        sections.push(section);
      } else if (id === 'lambda') {
        lambda = await runLambdaBundles({ runs: Number(values.runs) });
        sections.push(lambda);
      } else if (id === 'faults') {
        const out = await runFaultsSection({ fraction, log: (l) => log(`  ${l}`) });
        capacity = out.capacity;
        sections.push({ ...out.section, durationMs: Date.now() - t });
      } else if (id === 'failure') {
        const rate = failureRate(values.rate, capacity, fraction);
        log(`  load ${rate.text}`);
        const out = await runFailureDetection({
          ratePerSecond: rate.value,
          rateText: rate.text,
          log: (l) => log(`  ${l}`),
        });
        local = out.local;
        const ms = Date.now() - t;
        for (const s of out.sections) sections.push({ ...s, durationMs: ms });
      } else if (id === 'cost') {
        sections.push({
          ...(await runCost(costInputs(local, lambda))),
          durationMs: Date.now() - t,
        });
      }
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      log(`  ${id} failed: ${reason}`);
      sections.push({
        ...sectionNotMeasured(id, id, `section ${id}`, `it failed: ${reason}`),
        durationMs: Date.now() - t,
      });
    }
  }

  const run: BenchRun = {
    startedAt,
    finishedAt: new Date().toISOString(),
    command: `npm run bench${positionals.length > 0 ? ` -- ${positionals.join(' ')}` : ''}`,
    host,
    sections: withCarriedOver(sections, selected, await previousRun()),
  };
  const files = await writeReport(run);
  for (const s of sections)
    for (const f of s.figures)
      log(
        `${s.id.padEnd(18)} ${f.name}: ${f.value ?? 'not measured'} ${f.unit}${f.ratio !== null ? ` (${f.ratio}×)` : ''}${f.met === null ? '' : f.met ? ' met' : ' NOT met'}`,
      );
  for (const s of sections.filter((x) => x.status === 'not measured'))
    log(`${s.id}: not measured — ${s.reason}`);
  log(`wrote ${files.join(', ')}`);
}

/**
 * The failure section's load: `--rate` when given, else `fraction` × the capacity the faults
 * section measured in this run, else 2 requests/s; with the words the report states it in. Pure.
 */
export function failureRate(
  flag: string | undefined,
  capacity: number | null,
  fraction: number,
): { value: number; text: string } {
  if (flag !== undefined) {
    const value = Number(flag);
    if (!(value > 0)) throw new Error(`--rate must be a positive number, got ${flag}`);
    return {
      value,
      text:
        capacity && capacity > 0
          ? `${value} req/s (--rate; ${Number((value / capacity).toFixed(3))} × the capacity at rest, ${capacity} req/s, measured in this run)`
          : `${value} req/s (--rate; capacity not measured in this run)`,
    };
  }
  if (capacity && capacity > 0) {
    const value = Number((fraction * capacity).toFixed(3));
    return {
      value,
      text: `${value} req/s (${fraction} × the capacity at rest, ${capacity} req/s, measured in this run)`,
    };
  }
  return {
    value: 2,
    text: '2 req/s (a fixed rate: the capacity was not measured in this run; run the faults section with it to state the load as a fraction of capacity)',
  };
}

/** Cost from this run's real local releases when the failure section ran, else simulated. */
function costInputs(
  local: LocalScenarios | undefined,
  lambda: SectionResult | undefined,
): CostInputs | undefined {
  const priced = (local?.runs ?? []).filter(
    (r) => r.scenario !== 'crash' || r.result.events.length > 0,
  );
  if (!local || priced.length === 0) return undefined;
  const bundles =
    (lambda?.details as { bundles?: { requireMedianMs: number | null }[] } | undefined)?.bundles ??
    [];
  const requires = bundles.map((b) => b.requireMedianMs).filter((v): v is number => v !== null);
  return {
    definition: local.definition as never,
    executions: priced.map((r) => ({
      scenario: `${r.scenario} local release (${r.result.outcome})`,
      events: r.result.events as never,
      buildSeconds: (r.result.durationsMs.BuildImage ?? 0) / 1000,
      buildSource: 'BuildImage of the same local release (real Packer build)',
    })),
    eventsSource:
      'the events of the real local releases of this run (health polls every 0.5 s as local mode sets it; AWS polls less often, so fewer transitions there), Lambda Task durations as the local adapters took them',
    ...(requires.length > 0
      ? {
          initMs: {
            value: median(requires),
            source: 'median bundle require time measured in this run',
          },
        }
      : {}),
  };
}

if (isMain(import.meta.url)) await main();
