import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const STATEMACHINE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'statemachine');

/** Absolute path of `statemachine/<machine>.asl.json` (JSONPath ASL with `${Placeholders}`). */
export function aslPath(machine: string): string {
  return join(STATEMACHINE_DIR, `${machine}.asl.json`);
}

/** Every `${Name}` placeholder used in an ASL document, sorted. */
export function placeholdersOf(asl: string): string[] {
  return [...new Set([...asl.matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map((m) => m[1] as string))].sort();
}
