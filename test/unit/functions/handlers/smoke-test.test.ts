import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SmokeCheck } from '#commons/smoke.ts';
import { smokeTest } from '#functions/smoke-test/smoke-test.ts';
import { lambdaContext } from './context.ts';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});
const { handler } = await import('#functions/smoke-test/handler.ts');

// A real HTTP server on loopback stands in for the load balancer.
let server: Server | undefined;
async function serve(routes: (path: string, hit: number) => [number, string]): Promise<string> {
  const hits = new Map<string, number>();
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    const hit = (hits.get(path) ?? 0) + 1;
    hits.set(path, hit);
    const [status, body] = routes(path, hit);
    res.writeHead(status, { 'content-type': 'text/html' }).end(body);
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
});
const timing = { intervalMs: 10, requestTimeoutMs: 2000 };

describe('smokeTest', () => {
  it('passes once /readyz recovers within the attempts and the home page renders', async () => {
    // Prepare
    const url = await serve((path, hit) =>
      path === '/readyz'
        ? hit < 3
          ? [503, 'db-unreachable']
          : [200, 'ok']
        : [200, '<html><body>WordPress</body></html>'],
    );
    // Act
    const out = await smokeTest({ siteUrl: url, attempts: 3 }, timing);
    // Assess
    expect(out.checks.map((c) => `${c.path} ${c.status}`)).toEqual(['/readyz 200', '/ 200']);
  });

  it('fails with the body reason after the bounded attempts', async () => {
    // Prepare
    const url = await serve(() => [503, 'not-installed']);
    // Act
    const act = smokeTest({ siteUrl: url, attempts: 2 }, timing);
    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'SmokeTestError',
      message: '/readyz answered 503: not-installed after 2 attempt(s)',
    });
  });

  it('fails on a blank home page', async () => {
    // Prepare
    const url = await serve((path) => (path === '/readyz' ? [200, 'ok'] : [200, '']));
    // Act
    const act = smokeTest({ siteUrl: url, attempts: 1 }, timing);
    // Assess
    await expect(act).rejects.toThrow(/without an HTML document/);
  });
});

describe('SmokeTest handler', () => {
  it('returns both checks when /readyz and the home page answer through the load balancer', async () => {
    // Prepare
    const url = await serve((path) =>
      path === '/readyz'
        ? [200, 'ok']
        : [200, '<!doctype html><html><body>WordPress</body></html>'],
    );
    // Act
    const out = await handler({ siteUrl: url, attempts: 1 }, lambdaContext('SmokeTest'));
    // Assess
    expect(out.checks.map((c: SmokeCheck) => `${c.path} ${c.status} ${c.ok}`)).toEqual([
      '/readyz 200 true',
      '/ 200 true',
    ]);
  });

  it('fails with SmokeTestError naming the page that failed', async () => {
    // Prepare
    const url = await serve((path) => (path === '/readyz' ? [200, 'ok'] : [500, 'Fatal error']));
    // Act
    const error = await handler({ siteUrl: url, attempts: 1 }, lambdaContext('SmokeTest')).catch(
      (e: unknown) => e,
    );
    // Assess
    expect(error).toMatchObject({
      name: 'SmokeTestError',
      message: '/ answered 500: Fatal error after 1 attempt(s)',
    });
  });

  it.each([
    [{ siteUrl: 'sd.example.com', attempts: 1 }, /siteUrl/],
    [{ siteUrl: 'http://sd.example.com', attempts: 11 }, /attempts/],
  ])('refuses %j before any request (ParseError)', async (input, field) => {
    // Prepare / Act
    const error = (await handler(input, lambdaContext('SmokeTest')).catch(
      (e: unknown) => e,
    )) as Error & {
      cause?: unknown;
    };
    // Assess
    expect(error.name).toBe('ParseError');
    expect(JSON.stringify(error.cause)).toMatch(field);
  });
});
