import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { releaseOptionsSchema } from '#commons/release.ts';
import { SMOKE_MAX_ATTEMPTS, smokeTestBudgetMs } from '#commons/smoke.ts';
import { smokeTestSchema } from '#functions/smoke-test/schema.ts';
import { smokeTest } from '#functions/smoke-test/smoke-test.ts';

let server: Server | undefined;
afterEach(async () => {
  const running = server;
  server = undefined;
  if (!running) return;
  running.closeAllConnections();
  await new Promise((resolve) => running.close(resolve));
});

describe('smoke test budget', () => {
  it('bounds a smoke test whose every request hangs (the worst case)', async () => {
    // Prepare: a load balancer that accepts and never answers
    server = createServer(() => undefined);
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const timing = { intervalMs: 50, requestTimeoutMs: 200 };
    const started = Date.now();
    // Act
    const run = smokeTest({ siteUrl: url, attempts: 2 }, timing);
    // Assess: it fails on /readyz, within the budget (only the first path ran)
    await expect(run).rejects.toMatchObject({ name: 'SmokeTestError' });
    const elapsed = Date.now() - started;
    // (timers may fire a millisecond early)
    expect(elapsed).toBeGreaterThanOrEqual(2 * 200 + 50 - 10);
    expect(elapsed).toBeLessThanOrEqual(smokeTestBudgetMs(2, timing));
  });

  it('admits no more attempts in the step or the release options than the budget is sized for', () => {
    // Act
    const stepMax = smokeTestSchema.shape.attempts.maxValue;
    const optionMax = releaseOptionsSchema.unwrap().shape.smokeAttempts.unwrap().maxValue;
    // Assess
    expect(stepMax).toBe(SMOKE_MAX_ATTEMPTS);
    expect(optionMax).toBe(SMOKE_MAX_ATTEMPTS);
  });
});
