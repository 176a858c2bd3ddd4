import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import type {
  TargetHealthDescription,
  TargetHealthReasonEnum,
  TargetHealthStateEnum,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { NamedError } from '#commons/errors.ts';
import { pollUntil } from '#commons/wait.ts';
import {
  applicationFromTemplates,
  type HaproxyBalance,
  type TargetGroupSettings,
  targetGroupSettings,
} from './application.ts';
import { IMAGES_DIR, timeFactorFromEnv } from './config.ts';
import {
  buildImageOnce,
  containerLogs,
  inspectContainer,
  removeContainer,
  roleLabels,
  runContainer,
} from './docker.ts';
import { FileTable } from './table.ts';
import { readCdkOut } from './template.ts';

/** The HAProxy runtime API refused a command or HAProxy is not answering. */
export class LoadBalancerError extends NamedError {
  override readonly name = 'LoadBalancerError';
}

/**
 * Active health check settings (a target group's health check, and the service's grace
 * period). Local mode takes them from the synthesized template (local/application.ts
 * `targetGroupSettings`), scaled by STEPDEPLOY_TIME_FACTOR; none is specified here.
 */
export interface HealthCheckSettings {
  /** HealthCheckPath. */
  readonly path: string;
  /** Milliseconds between checks (HealthCheckIntervalSeconds x time factor). */
  readonly intervalMs: number;
  /** Consecutive passes to become healthy (HealthyThresholdCount). */
  readonly rise: number;
  /** Consecutive failures to become unhealthy (UnhealthyThresholdCount). */
  readonly fall: number;
  /** Milliseconds a check may wait for the answer (HealthCheckTimeoutSeconds x time factor). */
  readonly timeoutMs: number;
  /**
   * Milliseconds a new target may refuse connections (its app still starting) before that
   * counts as failing: the service's HealthCheckGracePeriodSeconds x time factor. An app that
   * answers wrongly is judged by `fall` at once.
   */
  readonly startGraceMs: number;
  /** Matcher.HttpCode in ALB syntax (`200`, `200,302`, `200-299`); ALB's default is 200. */
  readonly matcher?: string;
}

/**
 * The health check from `base` (the target group's), then each override in turn, checked for
 * values HAProxy would refuse or that make no sense. Pure.
 */
export function resolveHealthCheck(
  base: HealthCheckSettings,
  ...overrides: readonly (Partial<HealthCheckSettings> | undefined)[]
): HealthCheckSettings {
  const hc = Object.assign({}, base, ...overrides.filter(Boolean)) as HealthCheckSettings;
  const whole = (name: keyof HealthCheckSettings, min: number, max: number) => {
    const v = hc[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      throw new LoadBalancerError(
        `health check ${name} must be a whole number from ${min} to ${max}, got ${String(v)}`,
      );
  };
  whole('intervalMs', 100, 300_000);
  whole('timeoutMs', 100, 120_000);
  whole('rise', 1, 10);
  whole('fall', 1, 10);
  whole('startGraceMs', 0, 3_600_000);
  if (!/^\/[\x21-\x7e]*$/.test(hc.path))
    throw new LoadBalancerError(
      `health check path must start with / and hold no spaces, got ${hc.path}`,
    );
  if (hc.matcher !== undefined && !/^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$/.test(hc.matcher))
    throw new LoadBalancerError(
      `health check matcher must be status codes or ranges like 200,302 or 200-299, got ${hc.matcher}`,
    );
  return hc;
}

/** What the local load balancer is made from. */
export interface LoadBalancerSettings {
  readonly service: string;
  readonly stateDir: string;
  /** Frontend (listener) port on 127.0.0.1. */
  readonly port: number;
  /**
   * The synthesized target group's settings (local/application.ts). When omitted: those the
   * running HAProxy was started with, else the template in `<stateDir>/cdk.out`.
   */
  readonly targetGroup?: TargetGroupSettings;
  /** Explicit overrides of the target group's health check (tests only). */
  readonly healthCheck?: Partial<HealthCheckSettings>;
}

const BACKEND = 'app';
/**
 * The same targets without health checks, used only while no target of {@link BACKEND} is UP:
 * an ALB whose registered targets are all unhealthy routes to all of them (fails open) rather
 * than answering 503, which is what keeps an overloaded site serving when its checks time out.
 */
const FAIL_OPEN_BACKEND = 'app_fail_open';
/** The HAProxy ring that keeps the health-check log (every change of a server's check status). */
export const CHECK_RING = 'checks';
const SERVER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Paths of the HAProxy files inside the state dir (bind-mounted at the same path). */
export function haproxyPaths(stateDir: string): {
  dir: string;
  config: string;
  socket: string;
  targets: string;
  targetGroup: string;
} {
  const dir = join(stateDir, 'haproxy');
  return {
    dir,
    config: join(dir, 'haproxy.cfg'),
    socket: join(dir, 'admin.sock'),
    targets: join(dir, 'targets.json'),
    targetGroup: join(dir, 'target-group.json'),
  };
}

/**
 * The HAProxy configuration. Pure. Chosen so that no client request fails during a rollout:
 * requests that hit a dying or refusing server are retried on another (redispatch, retry-on),
 * servers join with no traffic until they pass `rise` checks, and leave by draining.
 */
export function haproxyConfig(
  settings: Pick<LoadBalancerSettings, 'stateDir' | 'port'> & {
    readonly healthCheck: HealthCheckSettings;
    /** The target group's routing algorithm as HAProxy's (default roundrobin). */
    readonly balance?: HaproxyBalance;
  },
): string {
  const { socket } = haproxyPaths(settings.stateDir);
  const hc = resolveHealthCheck(settings.healthCheck);
  return `# Generated by stepdeploy (local/load-balancer.ts); servers are added at runtime.
global
  stats socket ${socket} mode 600 level admin
  stats timeout 30s
  log stderr format short local0 notice

# Every change of a server's check status, with its time: HAProxy keeps no count of failed
# checks for a server that was never up, so the fall threshold is applied from this log.
ring ${CHECK_RING}
  format iso
  maxlen 1024
  size 262144

defaults
  mode http
  log global
  option dontlognull
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout queue 30s
  timeout http-request 10s
  timeout check ${hc.timeoutMs}ms
  option redispatch 1
  retries 3
  retry-on all-retryable-errors conn-failure empty-response response-timeout
  option http-buffer-request

frontend site
  bind 127.0.0.1:${settings.port}
  # The headers an ALB adds to every request it forwards (never to its health checks), so code
  # that behaves differently behind the load balancer does so locally too.
  option forwardfor
  http-request set-header X-Forwarded-Proto http
  http-request set-header X-Forwarded-Port %[dst_port]
  # An ALB fails open: with no healthy target it routes to every registered one.
  use_backend ${FAIL_OPEN_BACKEND} if { nbsrv(${BACKEND}) eq 0 } { nbsrv(${FAIL_OPEN_BACKEND}) gt 0 }
  default_backend ${BACKEND}

backend ${FAIL_OPEN_BACKEND}
  balance ${settings.balance ?? 'roundrobin'}

backend ${BACKEND}
  balance ${settings.balance ?? 'roundrobin'}
  option httpchk
  http-check send meth GET uri ${hc.path} ver HTTP/1.1 hdr Host localhost
  http-check expect status ${hc.matcher ?? '200'}
  option log-health-checks
  log ring@${CHECK_RING} local0 info
`;
}

/** Sends one command line to the runtime API over its unix socket and returns the reply. */
export function runtimeCommand(
  socketPath: string,
  command: string,
  timeoutMs = 10_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(socketPath);
    let data = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new LoadBalancerError(`runtime API did not answer "${command}" in time`));
    }, timeoutMs);
    sock.on('connect', () => sock.end(`${command}\n`));
    sock.on('data', (d) => {
      data += d.toString();
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(new LoadBalancerError(`runtime API at ${socketPath}: ${err.message}`, { cause: err }));
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(data);
    });
  });
}

/** One row of `show stat`, by column name. */
export type StatRow = Record<string, string>;

/** Parses `show stat` CSV (header line starts with `# `). Pure. */
export function parseStat(csv: string): StatRow[] {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const header = lines.find((l) => l.startsWith('# '));
  if (!header) return [];
  const cols = header.slice(2).split(',');
  return lines
    .filter((l) => !l.startsWith('#'))
    .map((l) => {
      const cells = l.split(',');
      const row: StatRow = {};
      cols.forEach((c, i) => {
        if (c) row[c] = cells[i] ?? '';
      });
      return row;
    });
}

/** One row of `show servers state`. */
export interface ServerState {
  readonly backend: string;
  readonly name: string;
  readonly addr: string;
  readonly port: number;
  /** 0 stopped, 1 starting, 2 running, 3 stopping. */
  readonly opState: number;
  /** Bit flags: 0x01 forced maint, 0x02/0x04/0x20/0x40 other maint, 0x08/0x10 drain. */
  readonly adminState: number;
  readonly secondsSinceChange: number;
}

/** Parses `show servers state` (version 1 format, space separated with a `#` header). Pure. */
export function parseServersState(text: string): ServerState[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines.find((l) => l.startsWith('# '));
  if (!header) return [];
  const cols = header.slice(2).trim().split(/\s+/);
  const at = (cells: string[], name: string) => cells[cols.indexOf(name)] ?? '';
  return lines
    .filter((l) => !l.startsWith('#') && l.trim().split(/\s+/).length >= cols.length - 2)
    .map((l) => {
      const cells = l.trim().split(/\s+/);
      return {
        backend: at(cells, 'be_name'),
        name: at(cells, 'srv_name'),
        addr: at(cells, 'srv_addr'),
        port: Number(at(cells, 'srv_port')),
        opState: Number(at(cells, 'srv_op_state')),
        adminState: Number(at(cells, 'srv_admin_state')),
        secondsSinceChange: Number(at(cells, 'srv_time_since_last_change')),
      };
    });
}

const MAINT_FLAGS = 0x01 | 0x02 | 0x04 | 0x20 | 0x40;
const DRAIN_FLAGS = 0x08 | 0x10;
const FAILED_CHECKS = new Set([
  'L4CON',
  'L4TOUT',
  'L6RSP',
  'L6TOUT',
  'L7RSP',
  'L7STS',
  'L7TOUT',
  'SOCKERR',
  'L7OKCD',
  'PROCERR',
  'PROCTOUT',
]);

type Health = {
  State: TargetHealthStateEnum;
  Reason?: TargetHealthReasonEnum;
  Description?: string;
};

function failedReason(checkStatus: string, checkCode: string): Health {
  if (checkStatus === 'L7STS')
    return {
      State: 'unhealthy',
      Reason: 'Target.ResponseCodeMismatch',
      Description: `Health checks failed with these codes: [${checkCode}]`,
    };
  if (/TOUT$/.test(checkStatus))
    return { State: 'unhealthy', Reason: 'Target.Timeout', Description: 'Request timed out' };
  return {
    State: 'unhealthy',
    Reason: 'Target.FailedHealthChecks',
    Description: `Health checks failed (${checkStatus}${checkCode ? ` ${checkCode}` : ''})`,
  };
}

/** Check statuses where the app answered, and answered wrongly (or too late): a verdict. */
const VERDICTS = new Set(['L6RSP', 'L6TOUT', 'L7RSP', 'L7STS', 'L7TOUT', 'L7OKCD']);

/** One line of HAProxy's health-check log (`option log-health-checks`). */
export interface CheckEvent {
  /** Epoch milliseconds of the check. */
  readonly at: number;
  readonly backend: string;
  readonly server: string;
  readonly passed: boolean;
  /** A failed check where the app answered (Layer 6/7): a verdict, not a start-up refusal. */
  readonly verdict: boolean;
  /** HAProxy's reason, e.g. `Layer7 wrong status, code: 500`. */
  readonly reason: string;
}

const CHECK_LINE =
  /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d) Health check for (?:backup )?server ([^/\s]+)\/(\S+) (failed|succeeded), reason: ([^,]+(?:, code: \d+)?)/;

/**
 * Parses the health-check lines of the check ring (`show events checks`, ISO timestamps);
 * other lines (server state changes) are skipped. Pure.
 */
export function parseCheckEvents(text: string): CheckEvent[] {
  return text.split('\n').flatMap((line) => {
    const m = CHECK_LINE.exec(line.trim());
    if (!m) return [];
    const [, time, frac = '', zone, backend, server, outcome, reason] = m as unknown as string[];
    const at = Date.parse(`${time}${frac.slice(0, 4)}${zone}`);
    if (Number.isNaN(at)) return [];
    const passed = outcome === 'succeeded';
    return [
      {
        at,
        backend: backend as string,
        server: server as string,
        passed,
        verdict: !passed && /^Layer[67]/.test(reason as string),
        reason: reason as string,
      },
    ];
  });
}

/**
 * When the server's current run of failed verdicts began: the first of the latest consecutive
 * Layer 6/7 failures, or undefined when its last logged check passed or was refused. The log
 * holds status changes only, so a run of identical failures shows as its first line. Pure.
 */
export function verdictFailingSince(
  events: readonly CheckEvent[],
  server: string,
  backend = BACKEND,
): number | undefined {
  let since: number | undefined;
  for (const e of events) {
    if (e.server !== server || e.backend !== backend) continue;
    since = e.verdict ? (since ?? e.at) : undefined;
  }
  return since;
}

/** What is known of a server's recent checks beyond its current status. */
export interface CheckHistory {
  /** Epoch ms the current run of failed verdicts began (from the check log). */
  readonly verdictFailingSince?: number;
}

/**
 * Maps HAProxy's view of one server to an ELBv2 TargetHealth, applying the fall threshold the
 * way an ALB does for a new target. Pure.
 *
 * A server joins forced DOWN (see addTarget), and HAProxy counts no failed checks for a server
 * that was never up. So a never-up server is `initial` until either `fall` consecutive checks
 * got a wrong answer (read from the check log: the run began `(fall - 1)` check periods ago),
 * or it has refused connections for longer than the start grace. `chkdown` counts UP→DOWN
 * transitions, the first of which is our own forced one: a server that was up and went down
 * has failed `fall` checks by HAProxy's own count and is unhealthy at once.
 */
export function mapTargetHealth(
  state: Pick<ServerState, 'opState' | 'adminState' | 'secondsSinceChange'>,
  stat: Partial<Record<'check_status' | 'check_code' | 'chkdown', string>>,
  hc: Pick<HealthCheckSettings, 'intervalMs' | 'fall' | 'timeoutMs' | 'startGraceMs'>,
  history: CheckHistory = {},
  now: number = Date.now(),
): Health {
  const checkStatus = stat.check_status ?? '';
  const checkCode = stat.check_code ?? '';
  if (state.adminState & MAINT_FLAGS)
    return { State: 'unused', Reason: 'Target.NotInUse', Description: 'Target is in maintenance' };
  if (state.adminState & DRAIN_FLAGS)
    return {
      State: 'draining',
      Reason: 'Target.DeregistrationInProgress',
      Description: 'Target deregistration is in progress',
    };
  if (state.opState === 2 || state.opState === 1) return { State: 'healthy' };
  if (state.opState === 3)
    return {
      State: 'unhealthy',
      Reason: 'Target.FailedHealthChecks',
      Description: 'Target is stopping',
    };
  const failing = FAILED_CHECKS.has(checkStatus);
  const wasUp = Number(stat.chkdown || '0') >= 2;
  if (failing && wasUp) return failedReason(checkStatus, checkCode);
  const downMs = state.secondsSinceChange * 1000;
  if (failing && VERDICTS.has(checkStatus)) {
    const since = history.verdictFailingSince;
    // A timed-out check takes its timeout on top of the interval before the next one starts.
    const period = hc.intervalMs + (/TOUT$/.test(checkStatus) ? hc.timeoutMs : 0);
    const fallen =
      since !== undefined
        ? now - since >= (hc.fall - 1) * period
        : // the log no longer holds the run's start: fall back on time since joining
          downMs >= Math.ceil((hc.fall * hc.intervalMs) / 1000) * 1000;
    if (fallen) return failedReason(checkStatus, checkCode);
  } else if (failing && downMs >= hc.startGraceMs) {
    return failedReason(checkStatus, checkCode);
  }
  if (checkStatus === '' || checkStatus === 'INI' || checkStatus === 'UNK')
    return {
      State: 'initial',
      Reason: 'Elb.RegistrationInProgress',
      Description: 'Target registration is in progress',
    };
  return {
    State: 'initial',
    Reason: 'Elb.InitialHealthChecking',
    Description: 'Initial health checks in progress',
  };
}

/** Whether mapping this server needs the check log (a never-up server failing with a verdict). Pure. */
export function needsCheckHistory(
  state: Pick<ServerState, 'opState' | 'adminState'>,
  stat: Partial<Record<'check_status' | 'chkdown', string>>,
): boolean {
  return (
    state.opState === 0 &&
    (state.adminState & (MAINT_FLAGS | DRAIN_FLAGS)) === 0 &&
    VERDICTS.has(stat.check_status ?? '') &&
    Number(stat.chkdown || '0') < 2
  );
}

/**
 * Joins `show servers state`, `show stat` and the check log into ELBv2
 * TargetHealthDescriptions keyed like IP targets: `Id` is the server's address, `Port` its
 * port. Pure.
 */
export function describeFromRuntime(
  serversState: string,
  statCsv: string,
  hc: Parameters<typeof mapTargetHealth>[2],
  checkLog = '',
  now: number = Date.now(),
): TargetHealthDescription[] {
  const stats = new Map(
    parseStat(statCsv)
      .filter((r) => r.pxname === BACKEND)
      .map((r) => [r.svname, r] as const),
  );
  const events = checkLog ? parseCheckEvents(checkLog) : [];
  return parseServersState(serversState)
    .filter((s) => s.backend === BACKEND)
    .map((s) => {
      const since = verdictFailingSince(events, s.name);
      return {
        Target: { Id: s.addr, Port: s.port },
        HealthCheckPort: String(s.port),
        TargetHealth: mapTargetHealth(
          s,
          stats.get(s.name) ?? {},
          hc,
          since === undefined ? {} : { verdictFailingSince: since },
          now,
        ),
      };
    });
}

/** A target registered with the load balancer (persisted so a restarted HAProxy regains it). */
export interface Target {
  readonly id: string;
  readonly port: number;
}

/**
 * The registered targets, one item per server name, in a file table: every change is a
 * read-modify-write under the table's lock, so deregistrations running side by side cannot
 * write back a server another one just removed.
 */
export function targetTable(stateDir: string): FileTable<Target> {
  return new FileTable<Target>(haproxyPaths(stateDir).dir, 'targets', { partitionKey: 'id' });
}

/**
 * The target group settings for a stack whose caller has none at hand: those the running
 * HAProxy was started with (`haproxy/target-group.json`), else the synthesized template in
 * `<stateDir>/cdk.out` scaled by STEPDEPLOY_TIME_FACTOR.
 */
export function storedTargetGroup(stateDir: string): TargetGroupSettings {
  try {
    return JSON.parse(
      readFileSync(haproxyPaths(stateDir).targetGroup, 'utf8'),
    ) as TargetGroupSettings;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const dir = join(stateDir, 'cdk.out');
  let stacks: string[];
  try {
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
      artifacts?: Record<string, { type?: string }>;
    };
    stacks = Object.entries(manifest.artifacts ?? {})
      .filter(([, a]) => a.type === 'aws:cloudformation:stack')
      .map(([name]) => name);
  } catch {
    throw new LoadBalancerError(
      `no target group settings in ${stateDir} (neither haproxy/target-group.json nor cdk.out): run \`stepdeploy local up\``,
    );
  }
  return targetGroupSettings(
    applicationFromTemplates(readCdkOut(dir, stacks)),
    timeFactorFromEnv(),
  );
}

/** The local "ALB": an HAProxy container and its runtime API. */
export class LoadBalancer {
  readonly settings: LoadBalancerSettings;
  /** The synthesized target group's settings this load balancer plays. */
  readonly targetGroup: TargetGroupSettings;
  readonly healthCheck: HealthCheckSettings;
  /**
   * The target group's deregistration delay (scaled): how long a draining target may keep its
   * in-flight requests before it is removed anyway. The default timeout of drain and remove.
   */
  readonly deregistrationDelayMs: number;
  readonly container: string;
  readonly url: string;
  private readonly paths: ReturnType<typeof haproxyPaths>;
  private readonly table: FileTable<Target>;

  /** Target group: `settings.targetGroup`, else {@link storedTargetGroup}; then the overrides. */
  constructor(settings: LoadBalancerSettings) {
    this.targetGroup = settings.targetGroup ?? storedTargetGroup(settings.stateDir);
    this.healthCheck = resolveHealthCheck(this.targetGroup.healthCheck, settings.healthCheck);
    this.deregistrationDelayMs = this.targetGroup.deregistrationDelayMs;
    this.settings = { ...settings, targetGroup: this.targetGroup, healthCheck: this.healthCheck };
    this.table = targetTable(settings.stateDir);
    this.container = `stepdeploy-${settings.service}-lb`;
    this.url = `http://127.0.0.1:${settings.port}`;
    this.paths = haproxyPaths(settings.stateDir);
    if (Buffer.byteLength(this.paths.socket) > 107)
      throw new LoadBalancerError(
        `HAProxy socket path ${this.paths.socket} is longer than a unix socket allows (107 bytes): use a shorter STEPDEPLOY_HOME`,
      );
  }

  /** The runtime API socket path on the host. */
  get socketPath(): string {
    return this.paths.socket;
  }

  /** Runs one runtime API command line. */
  command(cmd: string): Promise<string> {
    return runtimeCommand(this.paths.socket, cmd);
  }

  /** The registered targets (what a restarted HAProxy is given back). */
  async targets(): Promise<Target[]> {
    return (await this.table.query()).map(({ id, port }) => ({ id, port }));
  }

  // Earlier versions kept the targets as one JSON array, rewritten whole on every change.
  private async migrateLegacyTargets(): Promise<void> {
    let legacy: Target[];
    try {
      legacy = JSON.parse(await readFile(this.paths.targets, 'utf8')) as Target[];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const t of legacy) await this.table.put({ id: t.id, port: t.port }, (cur) => !cur);
    await rm(this.paths.targets, { force: true });
  }

  /** Current servers of the backend as parsed `show servers state` rows. */
  async servers(): Promise<ServerState[]> {
    return parseServersState(await this.command(`show servers state ${BACKEND}`));
  }

  /**
   * Starts HAProxy (or finds it running with the same configuration) and re-registers the
   * targets recorded in the state dir that a restarted HAProxy no longer has. Idempotent.
   */
  async ensure(): Promise<'already-running' | 'started'> {
    await mkdir(this.paths.dir, { recursive: true, mode: 0o700 });
    const config = haproxyConfig({
      ...this.settings,
      healthCheck: this.healthCheck,
      balance: this.targetGroup.balance,
    });
    await writeFile(
      this.paths.targetGroup,
      `${JSON.stringify({ ...this.targetGroup, healthCheck: this.healthCheck }, null, 2)}\n`,
      { mode: 0o600 },
    );
    const current = await readFile(this.paths.config, 'utf8').catch(() => '');
    const existing = await inspectContainer(this.container);
    if (existing?.State.Running && current === config) {
      try {
        await this.restoreTargets();
        return 'already-running';
      } catch {
        // the runtime API does not answer: recreate the container below
      }
    }
    if (existing) await removeContainer(this.container);
    await writeFile(this.paths.config, config, { mode: 0o600 });
    const image = await buildImageOnce('haproxy', join(IMAGES_DIR, 'haproxy'));
    await runContainer({
      name: this.container,
      image,
      labels: roleLabels(this.settings.service, 'load-balancer'),
      mounts: [`${this.paths.dir}:${this.paths.dir}`],
      command: ['-f', this.paths.config],
      restart: 'unless-stopped',
    });
    await this.waitForApi();
    await this.restoreTargets();
    return 'started';
  }

  private async waitForApi(timeoutMs = 30_000): Promise<void> {
    let last: unknown;
    await pollUntil(
      async () => {
        try {
          if ((await this.command('show info')).includes('Name: HAProxy')) return true;
        } catch (err) {
          last = err;
        }
        const c = await inspectContainer(this.container);
        if (c && !c.State.Running)
          throw new LoadBalancerError(
            `HAProxy exited (${c.State.ExitCode}): ${(await containerLogs(this.container, 20)).trim()}`,
          );
        return false;
      },
      {
        intervalMs: 200,
        timeoutMs,
        description: 'the HAProxy runtime API',
        onTimeout: () => {
          throw new LoadBalancerError(
            `HAProxy runtime API did not answer at ${this.paths.socket}`,
            { cause: last },
          );
        },
      },
    );
  }

  private async restoreTargets(): Promise<void> {
    await this.migrateLegacyTargets().catch(() => undefined);
    const have = new Set((await this.servers()).map((s) => s.name));
    for (const t of await this.targets()) if (!have.has(t.id)) await this.addServer(t);
  }

  private async addServer(target: Target): Promise<void> {
    const hc = this.healthCheck;
    const added = await this.command(
      `add server ${BACKEND}/${target.id} 127.0.0.1:${target.port} check inter ${hc.intervalMs} rise ${hc.rise} fall ${hc.fall}${
        this.targetGroup.slowStartMs ? ` slowstart ${this.targetGroup.slowStartMs}` : ''
      }`,
    );
    if (!/New server registered/i.test(added))
      throw new LoadBalancerError(`add server ${target.id} failed: ${added.trim()}`);
    // Leaving maintenance would mark the server UP before any check ("start OK, check
    // immediately"); going through drain (no new traffic) and forcing health down makes it
    // earn `rise` passing checks before it receives a request, like an ALB `initial` target.
    const out = await this.command(
      `enable health ${BACKEND}/${target.id}; set server ${BACKEND}/${target.id} state drain; set server ${BACKEND}/${target.id} health down; set server ${BACKEND}/${target.id} state ready`,
    );
    if (out.trim() !== '')
      throw new LoadBalancerError(`enabling ${target.id} failed: ${out.trim()}`);
    await this.addFailOpenServer(target);
  }

  // The target's copy for the fail-open backend: no checks, ready at once (it gets requests
  // only while no target is UP). Idempotent: a restarted HAProxy may already have it.
  private async addFailOpenServer(target: Target): Promise<void> {
    const name = `${FAIL_OPEN_BACKEND}/${target.id}`;
    const added = await this.command(`add server ${name} 127.0.0.1:${target.port}`);
    if (!/New server registered|Already exists/i.test(added))
      throw new LoadBalancerError(`add server ${name} failed: ${added.trim()}`);
    const out = await this.command(`set server ${name} state ready`);
    if (out.trim() !== '') throw new LoadBalancerError(`enabling ${name} failed: ${out.trim()}`);
  }

  /**
   * Registers a target (a server on 127.0.0.1:<port>). It receives no request until it has
   * passed `rise` health checks. Idempotent for the same id and port.
   */
  async addTarget(target: Target): Promise<void> {
    if (!SERVER_ID.test(target.id))
      throw new LoadBalancerError(`target id must match ${SERVER_ID}, got ${target.id}`);
    if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535)
      throw new LoadBalancerError(`target port must be a TCP port, got ${target.port}`);
    const existing = (await this.servers()).find((s) => s.name === target.id);
    if (existing) {
      if (existing.port !== target.port)
        throw new LoadBalancerError(
          `target ${target.id} is already registered on port ${existing.port}, not ${target.port}`,
        );
    } else {
      await this.addServer(target);
    }
    await this.table.put({ id: target.id, port: target.port });
  }

  /** Current sessions plus queued requests of a target, fail-open ones included (0 when unknown). */
  async activeSessions(id: string): Promise<number> {
    return parseStat(await this.command(`show stat`))
      .filter((r) => (r.pxname === BACKEND || r.pxname === FAIL_OPEN_BACKEND) && r.svname === id)
      .reduce((sum, r) => sum + Number(r.scur || '0') + Number(r.qcur || '0'), 0);
  }

  /**
   * Stops new requests to a target and waits until its in-flight sessions are 0 or the
   * deregistration delay (or `timeoutMs`) has passed, as an ALB does. Returns the sessions
   * still open at the end.
   */
  async drainTarget(id: string, opts: { readonly timeoutMs?: number } = {}): Promise<number> {
    // A deregistering target leaves the fail-open set too (an ALB fails open to registered
    // targets only).
    const leftFailOpen = await this.command(`set server ${FAIL_OPEN_BACKEND}/${id} state drain`);
    if (leftFailOpen.trim() !== '' && !/No such server/i.test(leftFailOpen))
      throw new LoadBalancerError(`drain ${id} (fail-open copy) failed: ${leftFailOpen.trim()}`);
    const out = await this.command(`set server ${BACKEND}/${id} state drain`);
    if (/No such server/i.test(out)) return 0;
    if (out.trim() !== '') throw new LoadBalancerError(`drain ${id} failed: ${out.trim()}`);
    let sessions = 0;
    return pollUntil(
      async () => {
        sessions = await this.activeSessions(id);
        return sessions === 0 ? sessions : undefined;
      },
      {
        intervalMs: 100,
        timeoutMs: opts.timeoutMs ?? this.deregistrationDelayMs,
        description: `target ${id} to drain`,
        // The deregistration delay is a bound, not a failure: report what is still open.
        onTimeout: () => sessions,
      },
    );
  }

  /**
   * Deregisters a target: maintenance, then `del server` once no connection uses it (sessions
   * still open after the deregistration delay, or `timeoutMs`, are shut down). Idempotent: an
   * unknown id is fine.
   */
  async removeTarget(id: string, opts: { readonly timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? this.deregistrationDelayMs;
    await Promise.all([
      this.deleteServer(`${FAIL_OPEN_BACKEND}/${id}`, timeoutMs),
      this.deleteServer(`${BACKEND}/${id}`, timeoutMs),
    ]);
    await this.table.delete({ id });
  }

  // Maintenance, then `del server` once no connection uses it; idempotent.
  private async deleteServer(name: string, timeoutMs: number): Promise<void> {
    const maint = await this.command(`set server ${name} state maint`);
    if (/No such server/i.test(maint)) return;
    const deleted = (out: string) => /Server deleted|No such server/i.test(out);
    await pollUntil(async () => deleted(await this.command(`del server ${name}`)), {
      intervalMs: 100,
      timeoutMs,
      description: `server ${name} to be removed`,
      // Past the delay, sessions still open are shut down, as an ALB does.
      onTimeout: async () => {
        await this.command(`shutdown sessions server ${name}`);
        const last = await this.command(`del server ${name}`);
        if (!deleted(last))
          throw new LoadBalancerError(`del server ${name} failed: ${last.trim()}`);
        return true;
      },
    });
  }

  /** The health-check log HAProxy keeps in its ring (each change of a server's check status). */
  async checkEvents(): Promise<CheckEvent[]> {
    return parseCheckEvents(await this.command(`show events ${CHECK_RING}`));
  }

  /**
   * Like ELBv2 DescribeTargetHealth for IP targets: one description per registered server,
   * `Target.Id` its address (127.0.0.1) and `Target.Port` its port.
   */
  async describeTargetHealth(): Promise<TargetHealthDescription[]> {
    const [state, stat] = await Promise.all([
      this.command(`show servers state ${BACKEND}`),
      this.command('show stat'),
    ]);
    // The check log is read only when a never-up server is failing: the rest need no history.
    const stats = new Map(parseStat(stat).map((r) => [`${r.pxname}/${r.svname}`, r] as const));
    const history = parseServersState(state).some((s) =>
      needsCheckHistory(s, stats.get(`${s.backend}/${s.name}`) ?? {}),
    );
    const log = history ? await this.command(`show events ${CHECK_RING}`) : '';
    return describeFromRuntime(state, stat, this.healthCheck, log, Date.now());
  }

  /** Removes the HAProxy container and forgets the registered targets. */
  async remove(): Promise<void> {
    await removeContainer(this.container);
    await rm(join(this.paths.dir, 'tables'), { recursive: true, force: true });
    await rm(this.paths.targets, { force: true });
  }
}

/** Starts (or finds) the load balancer for the settings and returns it. */
export async function ensureLoadBalancer(settings: LoadBalancerSettings): Promise<LoadBalancer> {
  const lb = new LoadBalancer(settings);
  await lb.ensure();
  return lb;
}
