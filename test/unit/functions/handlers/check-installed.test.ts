import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from './context.ts';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});
const { handler } = await import('#functions/check-installed/handler.ts');

// A loopback server stands in for the load balancer.
let server: Server | undefined;
async function lb(status: number, body: string): Promise<string> {
  server = createServer((req, res) => {
    res.writeHead(req.url === '/readyz' ? status : 404, { 'content-type': 'text/plain' }).end(body);
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
afterEach(() => new Promise((resolve) => server?.close(resolve)));

describe('CheckInstalled handler', () => {
  it.each([
    [200, 'ok', { state: 'INSTALLED', status: 200, reason: '/readyz answered 200' }],
    [
      503,
      'not-installed\n',
      {
        state: 'NOT_INSTALLED',
        status: 503,
        reason: '/readyz answered 503 not-installed: WordPress is not installed on this database',
      },
    ],
  ])('/readyz %i %j → %j', async (status, body, expected) => {
    // Prepare
    const siteUrl = await lb(status, body);
    // Act
    const out = await handler({ siteUrl }, lambdaContext('CheckInstalled'));
    // Assess
    expect(out).toEqual(expected);
  });

  it('refuses a site that is not a URL before any request (ParseError)', async () => {
    // Prepare / Act
    const error = (await handler(
      { siteUrl: 'stepdeploy-alb-123.us-east-1.elb.amazonaws.com' },
      lambdaContext('CheckInstalled'),
    ).catch((e: unknown) => e)) as Error & { cause?: unknown };
    // Assess
    expect(error.name).toBe('ParseError');
    expect(JSON.stringify(error.cause)).toMatch(/siteUrl/);
  });
});
