import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sleep } from '#commons/wait.ts';

const LAUNCHER = resolve(import.meta.dirname, '../../../bin/stepdeploy.js');
const HOME = mkdtempSync(join(tmpdir(), 'sd-launcher-'));
afterAll(() => rmSync(HOME, { recursive: true, force: true }));

/** The nice value of a running process (field 19 of /proc/<pid>/stat), or undefined once gone. */
function niceOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  } catch {
    return undefined;
  }
}

describe('bin/stepdeploy.js: local commands yield the CPU to the site', () => {
  it('runs `local` commands at the priority STEPDEPLOY_NICE sets', async () => {
    // Prepare
    const child = spawn(process.execPath, [LAUNCHER, 'local', 'status', '--json'], {
      env: { ...process.env, STEPDEPLOY_HOME: HOME, STEPDEPLOY_NICE: '7' },
      stdio: 'ignore',
    });
    const exited = new Promise((r) => child.on('exit', r));
    let ended = false;
    void exited.then(() => {
      ended = true;
    });
    // Act: sample its priority until it has lowered it or ended
    const seen = new Set<number>();
    while (!ended && !seen.has(7)) {
      const nice = niceOf(child.pid as number);
      if (nice !== undefined) seen.add(nice);
      await sleep(10);
    }
    child.kill();
    await exited;
    // Assess
    expect([...seen]).toContain(7);
  });

  it('refuses a STEPDEPLOY_NICE that is not 0-19, saying what to set', () => {
    // Act
    const run = spawnSync(process.execPath, [LAUNCHER, 'local', 'status'], {
      env: { ...process.env, STEPDEPLOY_HOME: HOME, STEPDEPLOY_NICE: '25' },
      encoding: 'utf8',
    });
    // Assess
    expect(run.status).toBe(64);
    expect(run.stderr).toContain('STEPDEPLOY_NICE="25" is not a priority');
    expect(run.stderr).toContain('from 0 (normal) to 19 (lowest)');
  });
});
