import { describe, expect, it } from 'vitest';
import { describeHolder, newLock } from '#commons/lock.ts';
import { judgeResponse } from '#commons/smoke.ts';

describe('lock', () => {
  it('leases from now and names the holder when refusing', () => {
    // Prepare
    const lock = newLock('sd', 'r-1', 'alice', new Date('2026-01-01T10:00:00Z'), 3600);
    // Act
    const message = describeHolder('sd', lock);
    // Assess
    expect(lock.expiresAt).toBe(Date.UTC(2026, 0, 1, 11) / 1000);
    expect(message).toBe(
      'service sd is locked by release r-1 started by alice at 2026-01-01T10:00:00.000Z; lease until 2026-01-01T11:00:00.000Z',
    );
  });
  it('says so when the holder vanished between the write and the read', () => {
    // Prepare / Act / Assess
    expect(describeHolder('sd', undefined)).toMatch(/lock changed while checking/);
  });
});

describe('judgeResponse', () => {
  it.each([
    ['/readyz', 200, 'ok', true, /answered 200/],
    ['/readyz', 503, 'db-unreachable\n', false, /\/readyz answered 503: db-unreachable/],
    ['/', 200, '<!doctype html><html><body>Hello</body></html>', true, /answered 200/],
    ['/', 200, '', false, /without an HTML document \(0 bytes\)/],
    ['/', 500, '<html>error</html>', false, /answered 500/],
  ] as const)('%s %i', (path, status, body, ok, reason) => {
    // Prepare / Act
    const check = judgeResponse(path, status, body);
    // Assess
    expect(check.ok).toBe(ok);
    expect(check.reason).toMatch(reason);
  });
});
