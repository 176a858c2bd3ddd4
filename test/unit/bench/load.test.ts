import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '#commons/wait.ts';
import {
  answerExcerpt,
  assertLoopback,
  checkSettings,
  defaultMaxInFlight,
  servedOk,
  startLoad,
} from '../../../bench/lib/load.ts';

describe('assertLoopback', () => {
  it.each(['http://127.0.0.1:8080/', 'http://localhost:18880/x'])('accepts %s', (url) => {
    // Prepare: the table row. Act / Assess
    expect(assertLoopback(url).href).toContain(url.split('/')[2]);
  });

  it.each(['http://10.0.0.1/', 'https://127.0.0.1/', 'http://example.com/', 'http://127.0.0.2/'])(
    'refuses %s',
    (url) => {
      // Prepare: the table row. Act / Assess
      expect(() => assertLoopback(url)).toThrow('127.0.0.1 only');
    },
  );
});

describe('checkSettings', () => {
  it.each([
    { ratePerSecond: 0, maxRequests: 10, maxMs: 1000, error: 'ratePerSecond' },
    { ratePerSecond: 10, maxRequests: 1e9, maxMs: 1000, error: 'maxRequests' },
    { ratePerSecond: 10, maxRequests: 10, maxMs: Number.POSITIVE_INFINITY, error: 'maxMs' },
  ])('refuses an unbounded load ($error)', ({ error, ...bounds }) => {
    // Prepare: the table row. Act / Assess
    expect(() => checkSettings({ url: 'http://127.0.0.1:1/', ...bounds })).toThrow(error);
  });
});

describe('defaultMaxInFlight', () => {
  it.each([
    { rate: 0.25, cap: 4 },
    { rate: 1, cap: 4 },
    { rate: 3, cap: 12 },
    { rate: 2.6, cap: 11 },
  ])('allows $cap requests in flight at $rate req/s', ({ rate, cap }) => {
    // Prepare: the table row. Act / Assess
    expect(defaultMaxInFlight(rate)).toBe(cap);
  });
});

describe('servedOk', () => {
  it.each([
    { status: 200, ok: true },
    { status: 302, ok: true },
    { status: 404, ok: true },
    { status: 502, ok: false },
    { status: 503, ok: false },
  ])('HTTP $status counts as served: $ok', ({ status, ok }) => {
    // Prepare: the table row. Act / Assess
    expect(servedOk(status)).toBe(ok);
  });
});

describe('answerExcerpt', () => {
  it.each([
    {
      body: '<html><head><title>Database Error</title></head><body>x</body></html>',
      out: ' — "Database Error"',
    },
    {
      body: '<h1>Error establishing a\n  database connection</h1>',
      out: ' — "Error establishing a database connection"',
    },
    { body: '', out: '' },
    { body: 'x'.repeat(300), out: ` — "${'x'.repeat(120)}"` },
  ])('$out', ({ body, out }) => {
    // Prepare: the table row. Act / Assess
    expect(answerExcerpt(body)).toBe(out);
  });
});

describe('startLoad', () => {
  let server: Server;
  let url: string;
  let hits = 0;
  beforeAll(async () => {
    // Every third request gets a 503, so the tally has something to count.
    server = createServer((_req, res) => {
      hits++;
      const failing = hits % 3 === 0;
      res.statusCode = failing ? 503 : 200;
      res.end(failing ? '<html><title>Service Unavailable</title><p>busy</p></html>' : 'ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('stops at its request bound and counts served and failed requests', async () => {
    // Prepare
    hits = 0;
    const load = startLoad({ url, ratePerSecond: 100, maxRequests: 9, maxMs: 10_000 });
    // Act
    const result = await load.finished();
    // Assess
    expect(result.sent).toBe(9);
    expect(result.ok).toBe(6);
    expect(result.failed).toBe(3);
    expect(result.failures.every((f) => f.reason === 'HTTP 503 — "Service Unavailable"')).toBe(
      true,
    );
  });

  it('counts a refused connection as a failure', async () => {
    // Prepare: a port nothing listens on (the closed server's port is free again)
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const load = startLoad({
      url: `http://127.0.0.1:${port}/`,
      ratePerSecond: 50,
      maxRequests: 3,
      maxMs: 5000,
    });
    // Act
    const result = await load.finished();
    // Assess
    expect(result).toMatchObject({ sent: 3, ok: 0, failed: 3 });
    expect(result.failures[0]?.reason).toBe('ECONNREFUSED');
  });
});

describe('startLoad against a stalled service', () => {
  it('does not pile up requests beyond its in-flight cap; the ones not sent count as failed', async () => {
    // Prepare: a server that never answers
    const held: import('node:http').ServerResponse[] = [];
    const stalled = createServer((_req, res) => {
      held.push(res);
    });
    await new Promise<void>((r) => stalled.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(stalled.address() as AddressInfo).port}/`;
    const load = startLoad({
      url,
      ratePerSecond: 100,
      maxRequests: 10,
      maxMs: 10_000,
      maxInFlight: 3,
      timeoutMs: 60_000,
    });
    // Act: release the held requests once the bound is reached
    const done = load.finished();
    await sleep(300);
    for (const res of held) res.end('late');
    const result = await done;
    await new Promise<void>((r) => stalled.close(() => r()));
    // Assess
    expect(result.sent).toBe(10);
    expect(held.length).toBe(3);
    expect(result.failures.filter((f) => f.reason.startsWith('not sent')).length).toBe(7);
    expect(result.ok).toBe(3);
  });
});
