import { describe, expect, it } from 'vitest';
import {
  describeFromRuntime,
  haproxyConfig,
  mapTargetHealth,
  parseServersState,
  parseStat,
} from '#local/load-balancer.ts';

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
  const hc = { intervalMs: 1000, fall: 2 };
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

describe('describeFromRuntime', () => {
  it('joins both views into TargetHealthDescriptions of the app backend', () => {
    // Act
    const got = describeFromRuntime(SERVERS_STATE, STAT);

    // Assess
    expect(got).toEqual([
      {
        Target: { Id: 'good', Port: 28001 },
        HealthCheckPort: '28001',
        TargetHealth: { State: 'healthy' },
      },
      {
        Target: { Id: 'bad', Port: 28002 },
        HealthCheckPort: '28002',
        TargetHealth: {
          State: 'unhealthy',
          Reason: 'Target.ResponseCodeMismatch',
          Description: 'Health checks failed with these codes: [500]',
        },
      },
      {
        Target: { Id: 'old', Port: 28003 },
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
    const cfg = haproxyConfig({ service: 'wordpress', stateDir: '/s', port: 8080 });

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
});
