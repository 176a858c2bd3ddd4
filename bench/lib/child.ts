import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { RESULTS_DIR } from './section.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** How a bench script run as a child process ended. */
export interface ChildRun {
  readonly script: string;
  readonly code: number | null;
  readonly ms: number;
  /** The last lines of its output, for a "not measured" reason. */
  readonly tail: string;
}

/**
 * Runs `tsx bench/<script>` as a child process, passing its output through with a prefix,
 * and returns how it ended. A missing script is reported, not thrown.
 */
export async function runScript(
  script: string,
  args: readonly string[] = [],
  timeoutMs = 60 * 60_000,
): Promise<ChildRun> {
  const file = join(ROOT, 'bench', script);
  const exists = await stat(file).then(
    () => true,
    () => false,
  );
  if (!exists) return { script, code: null, ms: 0, tail: `bench/${script} does not exist` };
  const started = Date.now();
  const lines: string[] = [];
  const code = await new Promise<number | null>((resolveCode) => {
    const child = spawn(join(ROOT, 'node_modules/.bin/tsx'), [file, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    const take = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        lines.push(line);
        if (lines.length > 40) lines.shift();
        process.stderr.write(`  [${script}] ${line}\n`);
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('close', (c) => {
      clearTimeout(timer);
      resolveCode(c);
    });
    child.on('error', (e) => {
      lines.push(e.message);
      clearTimeout(timer);
      resolveCode(null);
    });
  });
  return { script, code, ms: Date.now() - started, tail: lines.slice(-6).join(' / ') };
}

/**
 * Reads bench/results/<name> if it was written at or after `since` (epoch ms): a stale file
 * from an earlier run is never passed off as this run's figure.
 */
export async function readFreshJson<T>(
  name: string,
  since: number,
): Promise<{ data: T } | { missing: string }> {
  const file = join(RESULTS_DIR, name);
  const info = await stat(file).catch(() => undefined);
  if (!info) return { missing: `bench/results/${name} was not written` };
  if (info.mtimeMs < since - 1000)
    return {
      missing: `bench/results/${name} is from an earlier run (${info.mtime.toISOString()}), not this one`,
    };
  try {
    return { data: JSON.parse(await readFile(file, 'utf8')) as T };
  } catch (error) {
    return {
      missing: `bench/results/${name} is not JSON: ${error instanceof Error ? error.message : error}`,
    };
  }
}
