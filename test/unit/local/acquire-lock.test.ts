import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { releaseQueueView } from '#commons/lock.ts';
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
  return { locks, ctx: { locks, now, lockLeaseSeconds: 600 } as unknown as StepContext };
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
