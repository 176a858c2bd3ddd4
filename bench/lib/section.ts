import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Figure, SectionResult } from './figures.ts';

/** bench/results, where every script writes its JSON. */
export const RESULTS_DIR = resolve(import.meta.dirname, '..', 'results');

/** Whether the module with this import.meta.url is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && resolve(entry) === fileURLToPath(moduleUrl);
}

/** Writes one section's result to bench/results/<name>.json. */
export async function writeSectionJson(name: string, section: SectionResult): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}.json`);
  await writeFile(file, `${JSON.stringify(section, null, 2)}\n`);
  return file;
}

/** One figure as a script prints it: value, ratio and verdict where it has them. Pure. */
export function figureLine(f: Figure): string {
  const ratio = f.ratio !== null ? ` (x${f.ratio})` : '';
  const verdict = f.met === null ? '' : f.met ? ' met' : ' NOT met';
  return `${f.name}: ${f.value} ${f.unit}${ratio}${verdict}`;
}

/**
 * The command line of a section timed over repeated runs (`--runs N`, default 15): measures
 * it, writes bench/results/<name>.json and prints its figures and, when some are missing, why.
 */
export async function runRepeatedSection(
  name: string,
  measure: (opts: { runs: number }) => Promise<SectionResult>,
): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
  const section = await measure({ runs: Number(values.runs) });
  await writeSectionJson(name, section);
  for (const f of section.figures) console.log(figureLine(f));
  if (section.reason) console.log(section.reason);
}
