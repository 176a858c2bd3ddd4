import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { releaseQueueView } from '#commons/lock.ts';
import { holderGone } from '#local/lock-holder.ts';
import { acquireLock } from '#local/steps/acquire-lock.ts';
import { lockTable, type StepContext } from '#local/steps/context.ts';
import { releaseLock } from '#local/steps/release-lock.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The part of the step context the lock adapters use, on a real file-backed table. */
function lockContext(now = () => new Date()) {
  const dir = mkdtempSync(join(tmpdir(), 'sd-lock-'));
  dirs.push(dir);
  const locks = lockTable(dir);
  const notes: string[] = [];
  const note = (line: string) => notes.push(line);
  return {
    locks,
    notes,
    ctx: { locks, now, note, lockLeaseSeconds: 600 } as unknown as StepContext,
  };
}

const claim = (releaseId: string, startedAt: string) => ({
  service: 'svc',
  releaseId,
  startedBy: `${releaseId}-person`,
  startedAt,
});

describe('local AcquireLock: the release queue on the file-backed lock table', () => {
  it('runs the first, keeps the newest waiting, supersedes an older waiter, then runs the newest', async () => {
    // Prepare
    const { locks, ctx } = lockContext();
    const acquire = acquireLock(ctx);
    const release = releaseLock(ctx);
    const at = (ms: number) => new Date(Date.now() - 5000 + ms).toISOString();
    const [a, b, c] = [claim('r-a', at(0)), claim('r-b', at(400)), claim('r-c', at(800))];
    // Act
    const ran = await acquire(a);
    const bWaits = acquire(b);
    await expect(bWaits).rejects.toMatchObject({ name: 'LockHeldError' });
    const cWaits = acquire(c);
    await expect(cWaits).rejects.toMatchObject({
      name: 'LockHeldError',
      message: expect.stringMatching(/locked by release r-a .*waiting as the newest release/),
    });
    const view = releaseQueueView(
      (await locks.get({ service: 'svc' })) as never,
      (await locks.get({ service: 'svc#queue' })) as never,
      new Date(),
    );
    await release({ service: 'svc', releaseId: 'r-a' });
    const bAgain = acquire(b);
    await expect(bAgain).rejects.toMatchObject({
      name: 'ReleaseSupersededError',
      message: expect.stringMatching(/superseded by release r-c started by r-c-person/),
    });
    const cRuns = await acquire(c);
    // Assess
    expect(ran).toMatchObject({ holder: 'r-a' });
    expect(view.running?.releaseId).toBe('r-a');
    expect(view.waiting).toMatchObject({ releaseId: 'r-c', startedAt: c.startedAt });
    expect(cRuns).toMatchObject({ holder: 'r-c' });
    expect((await locks.get({ service: 'svc' }))?.holder).toBe('r-c');
  });

  it('an older release that asks after a newer one already ran is superseded, not run', async () => {
    // Prepare
    const { ctx } = lockContext();
    const acquire = acquireLock(ctx);
    await acquire(claim('r-new', '2026-12-01T10:00:05.000Z'));
    await releaseLock(ctx)({ service: 'svc', releaseId: 'r-new' });
    // Act
    const late = acquire(claim('r-old', '2026-12-01T10:00:01.000Z'));
    // Assess
    await expect(late).rejects.toMatchObject({ name: 'ReleaseSupersededError' });
  });

  it('a retry of the holder succeeds; the newest waiter gives up once it waited a lease', async () => {
    // Prepare
    const { ctx } = lockContext(() => new Date('2026-12-01T10:20:00.000Z'));
    const acquire = acquireLock(ctx);
    await acquire(claim('r-a', '2026-12-01T10:00:00.000Z'));
    // Act
    const retry = await acquire(claim('r-a', '2026-12-01T10:00:00.000Z'));
    const stale = acquire(claim('r-b', '2026-12-01T10:09:59.000Z'));
    // Assess
    expect(retry).toMatchObject({ holder: 'r-a' });
    await expect(stale).rejects.toMatchObject({
      name: 'LockWaitTimeoutError',
      message: expect.stringMatching(/waited longer than the lock's lease \(600 s\) and .*r-a/),
    });
  });
});

describe('holderGone: an interrupted local release frees its lock at once', () => {
  const runs = (alive: number[]) => (pid: number) => alive.includes(pid);
  it.each([
    {
      name: 'its process is gone on this machine',
      held: { holderPid: 41, holderHost: 'h' },
      want: true,
    },
    { name: 'its process still runs', held: { holderPid: 42, holderHost: 'h' }, want: false },
    {
      name: 'it was taken on another machine',
      held: { holderPid: 41, holderHost: 'other' },
      want: false,
    },
    { name: 'no process was recorded (the lease decides)', held: {}, want: false },
    {
      name: 'a recorded pid that is not one',
      held: { holderPid: 0, holderHost: 'h' },
      want: false,
    },
  ])('$name -> $want', ({ held, want }) => {
    // Act / Assess
    expect(holderGone(held, 'h', runs([42]))).toBe(want);
  });
});

describe('local AcquireLock: a lock whose stepdeploy process is gone', () => {
  const held = (holderPid: number) => ({
    service: 'svc',
    holder: 'r-interrupted',
    startedBy: 'someone',
    acquiredAt: new Date().toISOString(),
    expiresAt: Math.floor(Date.now() / 1000) + 3600,
    holderPid,
    holderHost: hostname(),
  });

  it('is taken over by the next release, which says so', async () => {
    // Prepare: a process that has exited holds the lock with most of its lease left
    const { locks, notes, ctx } = lockContext();
    const gone = spawnSync(process.execPath, ['-e', '0']).pid as number;
    await locks.put(held(gone));
    // Act
    const taken = await acquireLock(ctx)(claim('r-next', new Date().toISOString()));
    // Assess
    expect(taken).toMatchObject({ holder: 'r-next' });
    expect(await locks.get({ service: 'svc' })).toMatchObject({
      holder: 'r-next',
      holderPid: process.pid,
      holderHost: hostname(),
    });
    expect(notes.join('\n')).toMatch(
      new RegExp(
        `took over the lock of release r-interrupted, whose stepdeploy process \\(pid ${gone}\\) is gone`,
      ),
    );
  });

  it('is still held while that process runs', async () => {
    // Prepare: this very process holds it for another release
    const { locks, ctx } = lockContext();
    await locks.put(held(process.pid));
    // Act
    const waits = acquireLock(ctx)(claim('r-next', new Date().toISOString()));
    // Assess
    await expect(waits).rejects.toMatchObject({
      name: 'LockHeldError',
      message: expect.stringMatching(/locked by release r-interrupted/),
    });
  });
});
