import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TIME_FACTOR, loadConfig, timeFactorFromEnv } from '#local/config.ts';
import {
  describeFromRuntime,
  haproxyConfig,
  mapTargetHealth,
  needsCheckHistory,
  parseCheckEvents,
  parseServersState,
  parseStat,
  resolveHealthCheck,
  storedTargetGroup,
  targetTable,
  verdictFailingSince,
} from '#local/load-balancer.ts';

// A health check for the pure mapping functions (the stack's own comes from its template).
const HC = {
  path: '/healthz',
  intervalMs: 1000,
  rise: 2,
  fall: 2,
  timeoutMs: 3000,
  startGraceMs: 30_000,
};

// Captured from HAProxy 3.0 (Debian trixie) with one passing and one 500-answering server.
const SERVERS_STATE = `1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port
3 app 1 good 127.0.0.1 2 0 1 1 3 15 3 3 6 0 0 0 - 28001 - 0 0 - - 0
3 app 2 bad 127.0.0.1 0 0 1 1 5 17 2 0 6 0 0 0 - 28002 - 0 0 - - 0
3 app 3 old 127.0.0.1 2 8 1 1 9 15 3 3 6 0 0 0 - 28003 - 0 0 - - 0

`;
const STAT = `# pxname,svname,qcur,scur,status,chkfail,chkdown,lastchg,check_status,check_code
site,FRONTEND,,0,OPEN,,,,,
app,good,0,0,UP,0,1,3,L7OK,200
app,bad,0,0,DOWN,0,1,5,L7STS,500
app,old,0,2,DRAIN,0,1,9,L7OK,200
app,BACKEND,0,0,UP,,0,30,,
`;

describe('parseServersState', () => {
  it('reads names, ports, operational and administrative states', () => {
    // Act
    const rows = parseServersState(SERVERS_STATE);

    // Assess
    expect(rows).toEqual([
      {
        backend: 'app',
        name: 'good',
        addr: '127.0.0.1',
        port: 28001,
        opState: 2,
        adminState: 0,
        secondsSinceChange: 3,
      },
      {
        backend: 'app',
        name: 'bad',
        addr: '127.0.0.1',
        port: 28002,
        opState: 0,
        adminState: 0,
        secondsSinceChange: 5,
      },
      {
        backend: 'app',
        name: 'old',
        addr: '127.0.0.1',
        port: 28003,
        opState: 2,
        adminState: 8,
        secondsSinceChange: 9,
      },
    ]);
  });

  it('returns nothing for an empty backend', () => {
    expect(parseServersState('1\n# be_id be_name srv_id srv_name\n\n')).toEqual([]);
  });
});

describe('parseStat', () => {
  it('keys each CSV row by the header names', () => {
    // Act
    const rows = parseStat(STAT);

    // Assess
    expect(rows).toHaveLength(5);
    expect(rows[2]).toMatchObject({
      pxname: 'app',
      svname: 'bad',
      check_status: 'L7STS',
      check_code: '500',
    });
  });
});

describe('mapTargetHealth', () => {
  const hc = { intervalMs: 1000, fall: 2, timeoutMs: 3000, startGraceMs: 30_000 };
  const cases: {
    name: string;
    state: { opState: number; adminState: number; secondsSinceChange: number };
    stat: Record<string, string>;
    want: Record<string, string>;
  }[] = [
    {
      name: 'up and passing is healthy',
      state: { opState: 2, adminState: 0, secondsSinceChange: 4 },
      stat: { check_status: 'L7OK', check_code: '200', chkdown: '1' },
      want: { State: 'healthy' },
    },
    {
      name: 'up but one failure short of fall stays healthy (like an ALB threshold)',
      state: { opState: 2, adminState: 0, secondsSinceChange: 4 },
      stat: { check_status: 'L7STS', check_code: '500', chkdown: '1' },
      want: { State: 'healthy' },
    },
    {
      name: 'just added, no check yet, is initial (registration in progress)',
      state: { opState: 0, adminState: 0, secondsSinceChange: 0 },
      stat: { check_status: 'INI', check_code: '', chkdown: '1' },
      want: { State: 'initial', Reason: 'Elb.RegistrationInProgress' },
    },
    {
      name: 'passing but below rise is initial (initial health checking)',
      state: { opState: 0, adminState: 0, secondsSinceChange: 1 },
      stat: { check_status: 'L7OK', check_code: '200', chkdown: '1' },
      want: { State: 'initial', Reason: 'Elb.InitialHealthChecking' },
    },
    {
      name: 'a new target refusing connections within fall intervals is still initial',
      state: { opState: 0, adminState: 0, secondsSinceChange: 1 },
      stat: { check_status: 'L4CON', check_code: '', chkdown: '1' },
      want: { State: 'initial', Reason: 'Elb.InitialHealthChecking' },
    },
    {
      name: 'a 500 on /healthz after fall intervals is ResponseCodeMismatch',
      state: { opState: 0, adminState: 0, secondsSinceChange: 2 },
      stat: { check_status: 'L7STS', check_code: '500', chkdown: '1' },
      want: {
        State: 'unhealthy',
        Reason: 'Target.ResponseCodeMismatch',
        Description: 'Health checks failed with these codes: [500]',
      },
    },
    {
      name: 'a timed-out check is Target.Timeout',
      state: { opState: 0, adminState: 0, secondsSinceChange: 3 },
      stat: { check_status: 'L7TOUT', check_code: '', chkdown: '1' },
      want: { State: 'unhealthy', Reason: 'Target.Timeout' },
    },
    {
      name: 'a target that was up and went down is unhealthy at once',
      state: { opState: 0, adminState: 0, secondsSinceChange: 0 },
      stat: { check_status: 'L4CON', check_code: '', chkdown: '2' },
      want: { State: 'unhealthy', Reason: 'Target.FailedHealthChecks' },
    },
    {
      name: 'drain is draining',
      state: { opState: 2, adminState: 8, secondsSinceChange: 9 },
      stat: { check_status: 'L7OK', check_code: '200', chkdown: '1' },
      want: { State: 'draining', Reason: 'Target.DeregistrationInProgress' },
    },
    {
      name: 'maintenance is unused',
      state: { opState: 0, adminState: 1, secondsSinceChange: 0 },
      stat: {},
      want: { State: 'unused', Reason: 'Target.NotInUse' },
    },
  ];

  it.each(cases)('$name', ({ state, stat, want }) => {
    // Act
    const got = mapTargetHealth(state, stat, hc);

    // Assess
    expect(got).toMatchObject(want);
    if (want.State === 'healthy') expect(got).toEqual({ State: 'healthy' });
  });
});

describe('mapTargetHealth with the check log (fall applied to a never-up target)', () => {
  const hc = { intervalMs: 1000, fall: 2, timeoutMs: 3000, startGraceMs: 30_000 };
  const now = Date.parse('2026-11-21T23:46:20.000Z');
  const down = { opState: 0, adminState: 0, secondsSinceChange: 10 };
  const cases: {
    name: string;
    state?: { opState: number; adminState: number; secondsSinceChange: number };
    stat: Record<string, string>;
    sinceMsAgo?: number;
    want: Record<string, string>;
  }[] = [
    {
      name: 'one wrong answer is not yet unhealthy (fall 2)',
      stat: { check_status: 'L7STS', check_code: '500', chkdown: '1' },
      sinceMsAgo: 400,
      want: { State: 'initial', Reason: 'Elb.InitialHealthChecking' },
    },
    {
      name: 'wrong answers for one interval (the second failed check) are unhealthy',
      stat: { check_status: 'L7STS', check_code: '500', chkdown: '1' },
      sinceMsAgo: 1000,
      want: { State: 'unhealthy', Reason: 'Target.ResponseCodeMismatch' },
    },
    {
      name: 'a timeout waits for the next check to time out too (interval + timeout)',
      stat: { check_status: 'L7TOUT', check_code: '', chkdown: '1' },
      sinceMsAgo: 2000,
      want: { State: 'initial' },
    },
    {
      name: 'two timed-out checks are Target.Timeout',
      stat: { check_status: 'L7TOUT', check_code: '', chkdown: '1' },
      sinceMsAgo: 4000,
      want: { State: 'unhealthy', Reason: 'Target.Timeout' },
    },
    {
      name: 'refusing connections within the start grace is initial (the app is starting)',
      stat: { check_status: 'L4CON', check_code: '', chkdown: '1' },
      want: { State: 'initial', Reason: 'Elb.InitialHealthChecking' },
    },
    {
      name: 'refusing connections past the start grace is unhealthy',
      state: { opState: 0, adminState: 0, secondsSinceChange: 30 },
      stat: { check_status: 'L4CON', check_code: '', chkdown: '1' },
      want: { State: 'unhealthy', Reason: 'Target.FailedHealthChecks' },
    },
  ];

  it.each(cases)('$name', ({ state, stat, sinceMsAgo, want }) => {
    // Prepare
    const history = sinceMsAgo === undefined ? {} : { verdictFailingSince: now - sinceMsAgo };

    // Act
    const got = mapTargetHealth(state ?? down, stat, hc, history, now);

    // Assess
    expect(got).toMatchObject(want);
  });
});

// Captured from HAProxy 3.0 (`show events checks`): a server that joined forced down, refused,
// answered 500, passed twice (UP), then failed twice (DOWN again).
const CHECK_LOG = `2026-11-21T23:46:10.160751+00:00 Server app/t1 is DOWN, changed from CLI. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.
2026-11-21T23:46:11.014799+00:00 Health check for server app/t1 failed, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms, status: 0/2 DOWN.
2026-11-21T23:46:12.026446+00:00 Health check for server app/t1 failed, reason: Layer7 wrong status, code: 500, info: "Internal Server Error", check duration: 8ms, status: 0/2 DOWN.
2026-11-21T23:46:15.035496+00:00 Health check for server app/t1 succeeded, reason: Layer7 check passed, code: 200, check duration: 1ms, status: 1/2 DOWN.
2026-11-21T23:46:16.040312+00:00 Health check for server app/t1 succeeded, reason: Layer7 check passed, code: 200, check duration: 2ms, status: 2/2 UP.
2026-11-21T23:46:16.040362+00:00 Server app/t1 is UP. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.
2026-11-21T23:46:17.043222+00:00 Health check for server app/t1 failed, reason: Layer7 wrong status, code: 500, info: "Internal Server Error", check duration: 1ms, status: 1/2 UP.
2026-11-21T23:46:18.046712+00:00 Health check for server app/t1 failed, reason: Layer7 wrong status, code: 500, info: "Internal Server Error", check duration: 1ms, status: 0/2 DOWN.
2026-11-21T23:46:19.100000+00:00 Health check for server app/t2 failed, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms, status: 0/2 DOWN.
`;

describe('parseCheckEvents', () => {
  it('reads each check with its time, server, outcome and whether the app answered', () => {
    // Act
    const events = parseCheckEvents(CHECK_LOG);

    // Assess
    expect(events).toHaveLength(7);
    expect(events[0]).toEqual({
      at: Date.parse('2026-11-21T23:46:11.014Z'),
      backend: 'app',
      server: 't1',
      passed: false,
      verdict: false,
      reason: 'Layer4 connection problem',
    });
    expect(events[1]).toMatchObject({
      at: Date.parse('2026-11-21T23:46:12.026Z'),
      passed: false,
      verdict: true,
      reason: 'Layer7 wrong status, code: 500',
    });
    expect(events[2]).toMatchObject({ passed: true, verdict: false });
  });
});

describe('verdictFailingSince', () => {
  const events = parseCheckEvents(CHECK_LOG);
  const cases = [
    {
      name: 'the first of the latest run of wrong answers',
      events,
      server: 't1',
      want: Date.parse('2026-11-21T23:46:17.043Z'),
    },
    {
      name: 'a pass ends the run',
      events: events.slice(0, 4),
      server: 't1',
      want: undefined,
    },
    {
      name: 'a run that began before a pass is not counted',
      events: events.slice(0, 2),
      server: 't1',
      want: Date.parse('2026-11-21T23:46:12.026Z'),
    },
    { name: 'refused connections are no verdict', events, server: 't2', want: undefined },
    { name: 'an unknown server has none', events, server: 'nope', want: undefined },
  ];

  it.each(cases)('$name', ({ events: evs, server, want }) => {
    // Act
    const got = verdictFailingSince(evs, server);

    // Assess
    expect(got).toBe(want);
  });
});

describe('needsCheckHistory', () => {
  it.each([
    { stat: { check_status: 'L7STS', chkdown: '1' }, opState: 0, adminState: 0, want: true },
    { stat: { check_status: 'L7STS', chkdown: '2' }, opState: 0, adminState: 0, want: false },
    { stat: { check_status: 'L4CON', chkdown: '1' }, opState: 0, adminState: 0, want: false },
    { stat: { check_status: 'L7STS', chkdown: '1' }, opState: 2, adminState: 0, want: false },
    { stat: { check_status: 'L7STS', chkdown: '1' }, opState: 0, adminState: 8, want: false },
  ])(
    '$stat.check_status chkdown $stat.chkdown op $opState admin $adminState → $want',
    ({ stat, opState, adminState, want }) => {
      // Act
      const got = needsCheckHistory({ opState, adminState }, stat);

      // Assess
      expect(got).toBe(want);
    },
  );
});

describe('describeFromRuntime', () => {
  it('applies fall from the check log: a fresh run of wrong answers is still initial', () => {
    // Prepare
    const state = SERVERS_STATE.replace(
      '3 app 2 bad 127.0.0.1 0 0 1 1 5',
      '3 app 2 bad 127.0.0.1 0 0 1 1 9',
    );
    const log =
      '2026-11-21T23:46:19.500000+00:00 Health check for server app/bad failed, reason: Layer7 wrong status, code: 500, info: "x", check duration: 1ms, status: 0/2 DOWN.\n';

    // Act
    const early = describeFromRuntime(state, STAT, HC, log, Date.parse('2026-11-21T23:46:20.000Z'));
    const later = describeFromRuntime(state, STAT, HC, log, Date.parse('2026-11-21T23:46:20.600Z'));

    // Assess
    expect(early[1]?.TargetHealth?.State).toBe('initial');
    expect(later[1]?.TargetHealth?.State).toBe('unhealthy');
  });

  it('joins both views into TargetHealthDescriptions keyed like IP targets', () => {
    // Act
    const got = describeFromRuntime(SERVERS_STATE, STAT, HC);

    // Assess
    expect(got).toEqual([
      {
        Target: { Id: '127.0.0.1', Port: 28001 },
        HealthCheckPort: '28001',
        TargetHealth: { State: 'healthy' },
      },
      {
        Target: { Id: '127.0.0.1', Port: 28002 },
        HealthCheckPort: '28002',
        TargetHealth: {
          State: 'unhealthy',
          Reason: 'Target.ResponseCodeMismatch',
          Description: 'Health checks failed with these codes: [500]',
        },
      },
      {
        Target: { Id: '127.0.0.1', Port: 28003 },
        HealthCheckPort: '28003',
        TargetHealth: {
          State: 'draining',
          Reason: 'Target.DeregistrationInProgress',
          Description: 'Target deregistration is in progress',
        },
      },
    ]);
  });
});

describe('haproxyConfig', () => {
  it('binds loopback only, checks /healthz and retries failed requests on another server', () => {
    // Act
    const cfg = haproxyConfig({ stateDir: '/s', port: 8080, healthCheck: HC });

    // Assess
    expect(cfg).toContain('bind 127.0.0.1:8080');
    expect(cfg).toContain('stats socket /s/haproxy/admin.sock mode 600 level admin');
    expect(cfg).toContain('http-check send meth GET uri /healthz');
    expect(cfg).toContain('option redispatch');
    expect(cfg).toMatch(
      /retry-on all-retryable-errors conn-failure empty-response response-timeout/,
    );
    expect(cfg).not.toMatch(/bind (0\.0\.0\.0|\*|:)/);
  });

  it("balances with the target group's algorithm, round robin by default", () => {
    // Act
    const byDefault = haproxyConfig({ stateDir: '/s', port: 8080, healthCheck: HC });
    const leastOutstanding = haproxyConfig({
      stateDir: '/s',
      port: 8080,
      healthCheck: HC,
      balance: 'leastconn',
    });

    // Assess: the fail-open backend balances the same way
    expect(byDefault.match(/^ {2}balance roundrobin$/gm)).toHaveLength(2);
    expect(leastOutstanding.match(/^ {2}balance leastconn$/gm)).toHaveLength(2);
  });

  it('fails open like an ALB: unchecked copies of the targets take requests only when none is UP', () => {
    // Act
    const cfg = haproxyConfig({ stateDir: '/s', port: 8080, healthCheck: HC });

    // Assess
    expect(cfg).toMatch(
      /^ {2}use_backend app_fail_open if \{ nbsrv\(app\) eq 0 \} \{ nbsrv\(app_fail_open\) gt 0 \}\n {2}default_backend app$/m,
    );
    const failOpen = /^backend app_fail_open\n((?: {2}.*\n)*)/m.exec(cfg)?.[1] ?? '';
    expect(failOpen).not.toMatch(/httpchk|http-check/);
  });

  it('logs every check status change to the ring the fall threshold is read from', () => {
    // Act
    const cfg = haproxyConfig({ stateDir: '/s', port: 8080, healthCheck: HC });

    // Assess
    expect(cfg).toMatch(/^ring checks\n\s+format iso\n/m);
    expect(cfg).toContain('option log-health-checks');
    expect(cfg).toContain('log ring@checks local0 info');
  });

  it.each([
    [{}, ['timeout check 3000ms', 'http-check expect status 200\n']],
    [
      { timeoutMs: 1500, matcher: '200-299,302' },
      ['timeout check 1500ms', 'http-check expect status 200-299,302\n'],
    ],
  ])('takes the check timeout and matcher from the target group %j', (part, lines) => {
    // Act
    const cfg = haproxyConfig({ stateDir: '/s', port: 8080, healthCheck: { ...HC, ...part } });

    // Assess
    for (const line of lines) expect(cfg).toContain(line);
  });
});

describe('resolveHealthCheck', () => {
  it('layers overrides over the target group settings', () => {
    // Act
    const got = resolveHealthCheck(HC, { timeoutMs: 2500, fall: 3 }, { fall: 4 }, undefined);

    // Assess
    expect(got).toEqual({ ...HC, timeoutMs: 2500, fall: 4 });
  });

  it.each([
    [{ intervalMs: 50 }, /intervalMs must be a whole number from 100/],
    [{ timeoutMs: 1.5 }, /timeoutMs/],
    [{ fall: 0 }, /fall/],
    [{ path: 'healthz' }, /path must start with \//],
    [{ matcher: '2xx' }, /matcher must be status codes or ranges/],
  ])('refuses %o', (part, message) => {
    // Act
    const act = () => resolveHealthCheck(HC, part as never);

    // Assess
    expect(act).toThrow(message);
  });
});

describe('the time factor (STEPDEPLOY_TIME_FACTOR)', () => {
  it.each([
    [{}, DEFAULT_TIME_FACTOR],
    [{ STEPDEPLOY_TIME_FACTOR: '' }, DEFAULT_TIME_FACTOR],
    [{ STEPDEPLOY_TIME_FACTOR: '1' }, 1],
    [{ STEPDEPLOY_TIME_FACTOR: '0.2' }, 0.2],
  ])('%j is %d', (env, want) => {
    // Act / Assess
    expect(timeFactorFromEnv(env)).toBe(want);
    expect(loadConfig({}, env).timeFactor).toBe(want);
  });

  it.each(['0', 'fast', '2'])('refuses %s, naming the variable', (raw) => {
    // Act
    const act = () => timeFactorFromEnv({ STEPDEPLOY_TIME_FACTOR: raw });

    // Assess
    expect(act).toThrow(/STEPDEPLOY_TIME_FACTOR must be a number from 0.05 to 1/);
  });

  it('defaults to 0.5: a check timeout of 2.5 s, over ten times the p99 at half capacity (~200 ms)', () => {
    // Assess
    expect(DEFAULT_TIME_FACTOR).toBe(0.5);
    expect(5_000 * DEFAULT_TIME_FACTOR).toBeGreaterThanOrEqual(10 * 200);
  });
});

describe('storedTargetGroup', () => {
  it('reads the settings the running HAProxy was started with', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'sd-tg-'));
    const settings = {
      healthCheck: { ...HC, matcher: '200' },
      deregistrationDelayMs: 6000,
      timeFactor: 0.3,
      aws: {},
      notHonoured: [],
    };
    await mkdir(join(dir, 'haproxy'), { recursive: true });
    await writeFile(join(dir, 'haproxy', 'target-group.json'), JSON.stringify(settings));

    // Act
    const got = storedTargetGroup(dir);
    const none = (() => {
      try {
        return storedTargetGroup(join(dir, 'nothing'));
      } catch (err) {
        return (err as Error).message;
      }
    })();
    await rm(dir, { recursive: true, force: true });

    // Assess
    expect(got).toEqual(settings);
    expect(none).toMatch(/no target group settings .* run `stepdeploy local up`/);
  });
});

describe('targetTable', () => {
  it('parallel deregistrations and a registration leave exactly the right targets', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'sd-lb-'));
    const table = targetTable(dir);
    for (let i = 0; i < 8; i++) await table.put({ id: `t${i}`, port: 20000 + i });

    // Act
    await Promise.all([
      ...[0, 1, 2, 3, 4, 5].map((i) => table.delete({ id: `t${i}` })),
      table.put({ id: 'new', port: 20100 }),
    ]);
    const left = (await table.query()).map((t) => t.id).sort();
    await rm(dir, { recursive: true, force: true });

    // Assess
    expect(left).toEqual(['new', 't6', 't7']);
  });
});
