import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationVerificationError } from '#commons/verify-errors.ts';
import {
  type ApplicationProbe,
  httpGet,
  judgeApplication,
} from '#functions/verify-application/verify-application.ts';

const running = { lastStatus: 'RUNNING', containers: [{ name: 'wordpress' }] };
const page = '<!doctype html><html><body>stepdeploy</body></html>';

describe('judgeApplication', () => {
  it.each<{ name: string; probe: ApplicationProbe; state: string }>([
    {
      name: 'task provisioning',
      probe: { task: { lastStatus: 'PROVISIONING', containers: [] } },
      state: 'PENDING',
    },
    { name: 'no address yet', probe: { task: running }, state: 'PENDING' },
    {
      name: 'connection refused',
      probe: { task: running, readyz: { error: 'ECONNREFUSED' } },
      state: 'PENDING',
    },
    {
      name: 'db not reachable yet',
      probe: { task: running, readyz: { status: 503, body: 'db-unreachable' } },
      state: 'PENDING',
    },
    {
      name: 'ready and rendered',
      probe: {
        task: running,
        readyz: { status: 200, body: 'ok' },
        home: { status: 200, body: page },
      },
      state: 'PASSED',
    },
  ])('$name → $state', ({ probe, state }) => {
    // Prepare / Act / Assess
    expect(judgeApplication(probe).state).toBe(state);
  });

  it.each<{ name: string; probe: ApplicationProbe; reason: RegExp }>([
    {
      name: 'task stopped',
      probe: {
        task: {
          lastStatus: 'STOPPED',
          stoppedReason: 'Essential container in task exited',
          containers: [{ name: 'wordpress', exitCode: 1, reason: 'OutOfMemoryError' }],
        },
      },
      reason:
        /task stopped: Essential container in task exited; wordpress exit 1 \(OutOfMemoryError\)/,
    },
    {
      name: 'db-auth',
      probe: { task: running, readyz: { status: 503, body: 'db-auth' } },
      reason: /readyz 503: db-auth/,
    },
    {
      name: 'not installed (data missing)',
      probe: { task: running, readyz: { status: 503, body: 'not-installed\n' } },
      reason: /not-installed/,
    },
    {
      name: 'home page error',
      probe: {
        task: running,
        readyz: { status: 200, body: 'ok' },
        home: { status: 500, body: '' },
      },
      reason: /home page returned 500/,
    },
    {
      name: 'installer served',
      probe: {
        task: running,
        readyz: { status: 200, body: 'ok' },
        home: { status: 200, body: '<html><a href="/wp-admin/install.php">' },
      },
      reason: /installer/,
    },
  ])('$name fails with a reason', ({ probe, reason }) => {
    // Prepare / Act / Assess
    expect(() => judgeApplication(probe)).toThrow(ApplicationVerificationError);
    expect(() => judgeApplication(probe)).toThrow(reason);
  });
});

describe('httpGet', () => {
  let server: Server;
  let port = 0;
  let seenHost = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      seenHost = req.headers.host ?? '';
      res
        .writeHead(req.url === '/readyz' ? 503 : 200)
        .end(req.url === '/readyz' ? 'db-auth' : page);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('returns status and body and sends the site Host header', async () => {
    // Act
    const answer = await httpGet('127.0.0.1', port, '/readyz', 'www.example.org');
    // Assess
    expect(answer).toEqual({ status: 503, body: 'db-auth' });
    expect(seenHost).toBe('www.example.org');
  });

  it('reports a refused connection as an error, not a throw', async () => {
    // Prepare
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    // Act
    const answer = await httpGet('127.0.0.1', closedPort, '/', 'x');
    // Assess
    expect(answer).toEqual({ error: expect.stringContaining('ECONNREFUSED') });
  });
});
