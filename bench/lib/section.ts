import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SectionResult } from './figures.ts';

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
