import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sleep } from '#commons/wait.ts';
import { withFileLock } from '#local/lock.ts';

const LOCK_MODULE = fileURLToPath(new URL('../../../local/lock.ts', import.meta.url));

describe('withFileLock', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sd-lock-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('runs concurrent holders in one process one at a time', async () => {
    // Prepare
    const lock = join(dir, 'l.lock');
    let inside = 0;
    let most = 0;

    // Act
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        withFileLock(lock, async () => {
          inside++;
          most = Math.max(most, inside);
          await sleep(5);
          inside--;
          return i;
        }),
      ),
    );

    // Assess
    expect(most).toBe(1);
    expect(results).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('releases the lock when the holder throws', async () => {
    // Prepare
    const lock = join(dir, 'l.lock');

    // Act
    const failed = withFileLock(lock, async () => {
      throw new Error('boom');
    });
    await expect(failed).rejects.toThrow('boom');
    const after = await withFileLock(lock, async () => 'free', { timeoutMs: 1000 });

    // Assess
    expect(after).toBe('free');
  });

  it('takes over a lock whose holder died', async () => {
    // Prepare: a pid that cannot be alive
    const lock = join(dir, 'l.lock');
    await writeFile(lock, '999999999');

    // Act
    const got = await withFileLock(lock, async () => 'mine', { timeoutMs: 2000 });

    // Assess
    expect(got).toBe('mine');
  });

  it('keeps another process out while held', async () => {
    // Prepare: a child process holds the lock for 1.5 s and logs when it has it
    const lock = join(dir, 'l.lock');
    const log = join(dir, 'log');
    await writeFile(log, '');
    const script = `
      import { appendFileSync } from 'node:fs';
      import { withFileLock } from ${JSON.stringify(LOCK_MODULE)};
      await withFileLock(${JSON.stringify(lock)}, async () => {
        appendFileSync(${JSON.stringify(log)}, 'child-in\\n');
        await new Promise((r) => setTimeout(r, 1500));
        appendFileSync(${JSON.stringify(log)}, 'child-out\\n');
      });
    `;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        stdio: 'inherit',
      },
    );
    const exited = new Promise((r) => child.on('exit', r));
    for (let i = 0; i < 200 && !(await readFile(log, 'utf8')).includes('child-in'); i++)
      await sleep(50);

    // Act
    await withFileLock(lock, async () => {
      await writeFile(log, `${await readFile(log, 'utf8')}parent-in\n`);
    });
    await exited;

    // Assess
    expect((await readFile(log, 'utf8')).trim().split('\n')).toEqual([
      'child-in',
      'child-out',
      'parent-in',
    ]);
  });
});
