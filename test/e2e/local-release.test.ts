import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sleep } from '#commons/wait.ts';
import { screenshotPage } from '../support/browser.ts';

// One local stack for every scenario, on its own service name, ports and state dir, so it
// never touches another stack on this machine. Every request goes to 127.0.0.1.
const ROOT = resolve(import.meta.dirname, '..', '..');
const HOME = `/tmp/sd-e2e-${process.pid}`;
const SERVICE = 'e2e';
const SITE_PORT = 18180;
const SITE = `http://127.0.0.1:${SITE_PORT}`;
const ENV: NodeJS.ProcessEnv = {
  ...process.env,
  STEPDEPLOY_HOME: HOME,
  STEPDEPLOY_SERVICE: SERVICE,
  STEPDEPLOY_SITE_PORT: String(SITE_PORT),
  STEPDEPLOY_REGISTRY_PORT: '15100',
  STEPDEPLOY_DB_PORT: '23406',
  STEPDEPLOY_TASK_PORT_BASE: '28100',
  STEPDEPLOY_STARTED_BY: 'e2e-test',
};
const MINUTES = 60_000;

interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts `stepdeploy local <args>` through the real entry point (bin/stepdeploy.js). */
function startCli(args: readonly string[]): {
  child: ChildProcess;
  done: Promise<CliRun>;
  stderr: () => string;
} {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'stepdeploy.js'), 'local', ...args], {
    cwd: ROOT,
    env: ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<CliRun>((ok) =>
    child.on('close', (code) => ok({ code, stdout, stderr })),
  );
  return { child, done, stderr: () => stderr };
}

const cli = (args: readonly string[]) => startCli(args).done;

function json<T = Record<string, unknown>>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(
      `not JSON (exit ${run.code}): ${run.stdout}\n--- stderr ---\n${run.stderr.slice(-4000)}`,
    );
  }
}

interface ReleaseJson {
  releaseId: string;
  steps: { step: string; status: string }[];
  status: string;
  outcome: string;
  cause: string | null;
  failure: { step: string; error: string; reason: string } | null;
  record: {
    outcome: string;
    taskDefinitionArn?: string;
    imageUri?: string;
    rollbackTaskDefinitionArn?: string;
    source?: Record<string, string>;
    snapshotId?: string;
    schema?: {
      status: string;
      change?: {
        changed: boolean;
        dbVersion: { before: string | null; after: string | null };
        tablesAdded: string[];
        tablesRemoved: string[];
        columnsAdded: string[];
        columnsRemoved: string[];
      };
    };
  } | null;
}

interface StatusJson {
  service: { taskDefinition: string; revision: string } | null;
  tasks: { name: string; revision: number; lastStatus: string; targetHealth: string }[];
  releases: { releaseId: string; outcome: string; failedStep?: string; reason?: string }[];
  lock: {
    running: { releaseId: string } | null;
    waiting: { releaseId: string; startedAt: string } | null;
  };
}

/**
 * A constant request load on the site through HAProxy: `rate` requests per second, bounded in
 * count and time, each request judged on its own (a failure is anything but a 200 HTML page).
 */
class Load {
  private timer?: NodeJS.Timeout;
  private readonly inflight = new Set<Promise<void>>();
  private sent = 0;
  readonly failures: string[] = [];
  ok = 0;

  // A modest fixed rate: the promise is measured at half of capacity by `npm run bench`; here
  // it must hold on a busy two-core CI machine whatever its capacity is that day.
  constructor(
    private readonly rate = 4,
    private readonly maxRequests = 4 * 60 * 8,
    private readonly maxMs = 8 * MINUTES,
  ) {}

  start(): this {
    const until = Date.now() + this.maxMs;
    this.timer = setInterval(() => {
      if (this.sent >= this.maxRequests || Date.now() > until) return this.halt();
      this.sent += 1;
      const p = this.one().finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    }, 1000 / this.rate);
    return this;
  }

  private async one(): Promise<void> {
    try {
      const res = await fetch(`${SITE}/`, { signal: AbortSignal.timeout(30_000) });
      const body = await res.text();
      if (res.status === 200 && body.includes('</html>')) this.ok += 1;
      else this.failures.push(`HTTP ${res.status}`);
    } catch (error) {
      this.failures.push(
        error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      );
    }
  }

  private halt(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async stop(): Promise<{ ok: number; failed: number; failures: string[] }> {
    this.halt();
    await Promise.allSettled([...this.inflight]);
    return { ok: this.ok, failed: this.failures.length, failures: this.failures.slice(0, 10) };
  }
}

function ourContainers(filter: string[] = []): string[] {
  return execFileSync(
    'docker',
    [
      'ps',
      '-a',
      '--format',
      '{{.Names}}',
      '--filter',
      `label=stepdeploy.service=${SERVICE}`,
      ...filter.flatMap((f) => ['--filter', f]),
    ],
    { encoding: 'utf8' },
  )
    .split('\n')
    .filter(Boolean);
}

/** Task containers (all, or only those running) by name, with their revision label. */
/** Trial task containers of this stack (a trial never outlives its release). */
function trialContainers(): string[] {
  return ourContainers(['label=stepdeploy.role=trial']);
}

function taskRevisions(filter: string[] = []): Map<string, string> {
  const names = ourContainers(['label=stepdeploy.role=task', ...filter]);
  const out = new Map<string, string>();
  for (const name of names) {
    out.set(
      name,
      execFileSync(
        'docker',
        ['inspect', '--format', '{{index .Config.Labels "stepdeploy.revision"}}', name],
        { encoding: 'utf8' },
      ).trim(),
    );
  }
  return out;
}

/** A copy of the repository's site/ to change, under this run's state. */
function siteCopy(name: string): string {
  const dir = join(`${HOME}-sites`, name);
  mkdirSync(dir, { recursive: true });
  cpSync(join(ROOT, 'site'), dir, { recursive: true });
  mkdirSync(join(dir, 'mu-plugins'), { recursive: true });
  return dir;
}

/** The newest notification the local stack sent (local/steps/notify.ts appends one per line). */
function lastNotification(): { subject: string; message: string } {
  const lines = readFileSync(join(HOME, 'notifications.log'), 'utf8').trim().split('\n');
  return JSON.parse(lines.at(-1) ?? '{}') as { subject: string; message: string };
}

async function status(): Promise<StatusJson> {
  const run = await cli(['status', '--json']);
  const answer = json<StatusJson & { error?: unknown }>(run);
  // `status` must answer while releases run; when it does not, say what it said.
  if (answer.error !== undefined || !answer.lock) {
    throw new Error(
      `local status --json failed (exit ${run.code}): ${run.stdout.slice(0, 2000)}\n--- stderr ---\n${run.stderr.slice(-2000)}`,
    );
  }
  return answer;
}

afterAll(async () => {
  await cli(['down']);
  rmSync(`${HOME}-sites`, { recursive: true, force: true });
}, 5 * MINUTES);

describe.sequential('local mode: the release state machine on the local stack', () => {
  let v1: ReleaseJson;
  let v3: ReleaseJson;
  let v4: ReleaseJson;

  it(
    '1. from nothing: up, release v1 installs WordPress through InstallWordPress, serving through HAProxy',
    async () => {
      // Prepare / Act
      const up = await cli(['up', '--json']);
      const again = await cli(['up', '--json']);
      // A fresh database: nothing outside the release machine installs WordPress.
      const before = await fetch(`${SITE}/readyz`);
      const beforeBody = (await before.text()).trim();
      const run = await cli(['release', '--revision', 'v1', '--json']);
      v1 = json<ReleaseJson>(run);
      const shot = await screenshotPage(
        `${SITE}/`,
        join(ROOT, 'test-output', 'local-release', 'home.png'),
      );
      const readyz = await fetch(`${SITE}/readyz`);
      // The admin login the one-off task created, with the generated secret's password.
      const upJson = json<{ adminPasswordFile: string }>(up);
      const password = readFileSync(upJson.adminPasswordFile, 'utf8');
      const login = await fetch(`${SITE}/wp-login.php`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          cookie: 'wordpress_test_cookie=WP%20Cookie%20check',
        },
        body: new URLSearchParams({ log: 'admin', pwd: password, testcookie: '1' }).toString(),
        redirect: 'manual',
      });
      // Assess
      expect(json(up)).toMatchObject({ outcome: 'up', siteUrl: SITE, install: 'not-installed' });
      expect(json(again)).toMatchObject({ outcome: 'already-up' });
      // The bootstrap build shows its phases as a release shows its steps (stderr, even with --json).
      expect(up.stderr).toMatch(/^▶ image app: .+ \(elapsed (?:\d+(?:\.\d)?s|\d+m \d{2}s)\)$/m);
      expect(up.stderr).toMatch(/^✓ image app: .+ (?:\d+s|\d+m \d{2}s)$/m);
      expect(again.stderr).not.toContain('▶ image');
      expect({ status: before.status, body: beforeBody }).toEqual({
        status: 503,
        body: 'not-installed',
      });
      expect(password.length).toBeGreaterThanOrEqual(20);
      expect(up.stdout + up.stderr + run.stdout + run.stderr).not.toContain(password);
      expect(JSON.stringify(v1)).not.toContain(password);
      expect(v1).toMatchObject({
        status: 'SUCCEEDED',
        outcome: 'SUCCEEDED',
        record: { outcome: 'SUCCEEDED' },
      });
      // The snapshot is of the fresh database: the install is the schema change it announces.
      expect(v1.record?.schema).toMatchObject({
        status: 'READ',
        change: {
          changed: true,
          dbVersion: { before: null, after: expect.stringMatching(/^\d+$/) },
        },
      });
      expect(v1.record?.schema?.change?.tablesAdded).toEqual(
        expect.arrayContaining(['wp_options', 'wp_posts', 'wp_users']),
      );
      expect(lastNotification().message).toMatch(
        /\. The release changed the schema: db_version none → \d+; tables added: wp_\w+(, wp_\w+)* and \d+ more\.$/,
      );
      const order = v1.steps.map((row) => row.step);
      expect(order).toEqual(expect.arrayContaining(['CheckInstalled', 'InstallWordPress']));
      expect(order.indexOf('CheckHealth')).toBeLessThan(order.indexOf('InstallWordPress'));
      expect(order.indexOf('InstallWordPress')).toBeLessThan(order.indexOf('SmokeTest'));
      expect(login.status).toBe(302);
      expect(login.headers.getSetCookie().join(';')).toMatch(/wordpress_logged_in_/);
      // The one-off task is gone, with its secret copies; only the service's tasks run.
      expect(
        execFileSync(
          'docker',
          [
            'ps',
            '-aq',
            '--filter',
            `label=stepdeploy.service=${SERVICE}`,
            '--filter',
            'label=stepdeploy.role=install',
          ],
          {
            encoding: 'utf8',
          },
        ).trim(),
      ).toBe('');
      expect(readyz.status).toBe(200);
      expect(shot.status).toBe(200);
      expect(shot.title).toContain('stepdeploy');
      expect(existsSync(shot.path)).toBe(true);
      expect((await status()).service?.taskDefinition).toBe(v1.record?.taskDefinitionArn);
    },
    15 * MINUTES,
  );

  it(
    '2. a v2 failing its health check is refused by its trial task: never in the load balancer, zero failed requests',
    async () => {
      // Prepare
      const before = new Set(taskRevisions().keys());
      const load = new Load().start();
      // Act
      const run = await cli(['release', '--revision', 'v2', '--fault', 'healthz', '--json']);
      const seen = await load.stop();
      const v2 = json<ReleaseJson>(run);
      const after = await status();
      const notice = lastNotification();
      // Assess
      expect(run.code).toBe(1);
      expect(v2.outcome).toBe('FAILED');
      expect(v2.failure).toMatchObject({ step: 'CheckTrial', error: 'TrialFailed' });
      // Two wrong answers in a row, the target group's unhealthy threshold, and no more.
      expect(v2.failure?.reason).toMatch(
        /^the trial task answered wrongly 2 time\(s\) in a row: \/healthz answered 500/,
      );
      expect(run.stderr).toMatch(/StartTrial: \S+ on 127\.0\.0\.1:\d+, outside the load balancer/);
      expect(run.stderr).not.toContain('DeployService');
      expect(notice.message).toMatch(
        /was refused before it took any traffic; the service was not changed\.$/,
      );
      expect(seen.failures).toEqual([]);
      expect(seen.ok).toBeGreaterThan(20);
      expect(after.service?.taskDefinition).toBe(v1.record?.taskDefinitionArn);
      expect(new Set(taskRevisions().keys())).toEqual(before);
      expect(trialContainers()).toEqual([]);
      expect(after.releases.find((r) => r.releaseId === v2.releaseId)).toMatchObject({
        outcome: 'FAILED',
        failedStep: 'CheckTrial',
      });
    },
    15 * MINUTES,
  );

  it(
    '3. a good v3 under the same load: zero failed requests, old tasks drained and removed',
    async () => {
      // Prepare
      const old = [...taskRevisions().keys()];
      const load = new Load().start();
      // Act
      v3 = json<ReleaseJson>(await cli(['release', '--revision', 'v3', '--json']));
      const seen = await load.stop();
      const tasks = taskRevisions();
      const revision = v3.record?.taskDefinitionArn?.split(':').pop();
      // Assess
      expect(v3).toMatchObject({ outcome: 'SUCCEEDED' });
      // Installed by v1: CheckInstalled sends the release straight to SmokeTest.
      expect(v3.steps.map((row) => row.step)).toContain('CheckInstalled');
      expect(v3.steps.map((row) => row.step)).not.toContain('InstallWordPress');
      expect(seen.failures).toEqual([]);
      expect(seen.ok).toBeGreaterThan(20);
      // Nothing of the schema changed, and nothing is said about it.
      expect(v3.record?.schema).toMatchObject({ status: 'READ', change: { changed: false } });
      expect(lastNotification().message).not.toMatch(/schema/i);
      expect(tasks.size).toBe(2);
      expect([...tasks.values()]).toEqual([revision, revision]);
      for (const name of old) expect(tasks.has(name)).toBe(false);
      expect((await status()).tasks.every((t) => t.targetHealth === 'healthy')).toBe(true);
    },
    15 * MINUTES,
  );

  it(
    '4. two releases started within a second while one runs: the newest runs next, the other is superseded',
    async () => {
      // Prepare: v4 holds the lock (a redeploy of v3's image: no build, only the rollout).
      const image = v3.record?.imageUri ?? '';
      const first = startCli(['release', '--image', image, '--json']);
      for (let i = 0; i < 600 && !first.stderr().includes('✓ AcquireLock'); i++) await sleep(200);
      // Act
      const older = startCli(['release', '--image', image, '--json']);
      await sleep(500);
      const newer = startCli(['release', '--image', image, '--json']);
      let waitingSeen: StatusJson['lock']['waiting'] = null;
      for (let i = 0; i < 600 && !waitingSeen; i++) {
        waitingSeen = (await status()).lock.waiting;
        if (!waitingSeen) await sleep(500);
      }
      const [a, b, c] = await Promise.all([first.done, older.done, newer.done]);
      v4 = json<ReleaseJson>(a);
      // Newest by `$$.Execution.StartTime`, which the release id carries (local-<UTC stamp>-…).
      const [superseded, newest] = [json<ReleaseJson>(b), json<ReleaseJson>(c)].sort((x, y) =>
        x.releaseId.localeCompare(y.releaseId),
      ) as [ReleaseJson, ReleaseJson];
      const logs = `${older.stderr().slice(-2000)}\n---\n${newer.stderr().slice(-2000)}`;
      const after = await status();
      // Assess
      expect(v4.outcome).toBe('SUCCEEDED');
      expect(superseded.outcome, logs).toBe('SUPERSEDED');
      expect(superseded.cause).toContain(`superseded by release ${newest.releaseId}`);
      expect(newest.outcome, logs).toBe('SUCCEEDED');
      expect(logs).toContain('WaitForLock');
      expect(waitingSeen?.releaseId).toMatch(/^local-/);
      expect(after.service?.taskDefinition).toBe(newest.record?.taskDefinitionArn);
      expect(after.lock).toEqual({ running: null, waiting: null });
      expect(after.releases.some((r) => r.releaseId === superseded.releaseId)).toBe(false);
      expect(readFileSync(join(HOME, 'notifications.log'), 'utf8')).toContain(
        `stepdeploy SUPERSEDED: ${superseded.releaseId}`,
      );
    },
    15 * MINUTES,
  );

  it(
    '5. a new task killed mid-rollout is replaced, as ECS does, and the release succeeds',
    async () => {
      // Prepare
      const current = new Set(taskRevisions().values());
      const run = startCli(['release', '--image', v3.record?.imageUri ?? '', '--json']);
      let killed: string | undefined;
      for (let i = 0; i < 1200 && !killed; i++) {
        // A task counts once its container runs: docker creates it a moment before it starts.
        const fresh = [...taskRevisions(['status=running'])].find(([, rev]) => !current.has(rev));
        if (fresh) {
          execFileSync('docker', ['kill', fresh[0]]);
          killed = fresh[0];
        } else await sleep(100);
      }
      // Act
      const result = json<ReleaseJson>(await run.done);
      const after = await status();
      const tasks = taskRevisions();
      // Assess
      expect(killed).toBeDefined();
      expect(result.outcome, `${result.cause}\n${run.stderr().slice(-3000)}`).toBe('SUCCEEDED');
      expect(run.stderr()).toMatch(
        /task \S+ failed \(1 so far\): Essential container in task exited \(exit code 137\)/,
      );
      expect(after.service?.taskDefinition).toBe(result.record?.taskDefinitionArn);
      expect(tasks.has(killed as string)).toBe(false);
      expect([...tasks.values()]).toEqual(
        Array(2).fill(result.record?.taskDefinitionArn?.split(':').pop()),
      );
      expect(after.tasks.every((t) => t.targetHealth === 'healthy')).toBe(true);
    },
    15 * MINUTES,
  );

  it(
    "6. a change to the site's code reaches the page; the same source again is not rebuilt",
    async () => {
      // Prepare: the site as a person keeps it, with the demo theme's notice edited.
      const source = siteCopy('edited');
      const functions = join(source, 'themes', 'stepdeploy-demo', 'functions.php');
      writeFileSync(
        functions,
        readFileSync(functions, 'utf8').replace(
          /STEPDEPLOY_DEMO_NOTICE = '[^']*'/,
          "STEPDEPLOY_DEMO_NOTICE = 'Edited in e2e test 6'",
        ),
      );
      const hash = execFileSync(join(ROOT, 'packer', 'site-hash.sh'), [source], {
        encoding: 'utf8',
      }).trim();
      // Act
      const first = startCli(['release', '--source', source, '--revision', 'site1', '--json']);
      const edited = json<ReleaseJson>(await first.done);
      const page = await (await fetch(`${SITE}/`)).text();
      const again = startCli(['release', '--source', source, '--revision', 'site2', '--json']);
      const unchanged = json<ReleaseJson>(await again.done);
      // Assess
      expect(edited.outcome, first.stderr().slice(-3000)).toBe('SUCCEEDED');
      expect(page).toContain('<p class="stepdeploy-demo-notice">Edited in e2e test 6</p>');
      expect(edited.record).toMatchObject({ source: { type: 's3', versionId: hash } });
      expect(unchanged.outcome).toBe('SUCCEEDED');
      expect(unchanged.record?.imageUri).toBe(edited.record?.imageUri);
      expect(again.stderr()).toContain('source and build unchanged: the image built before');
      expect(again.stderr()).not.toContain('TASK [wordpress');
    },
    15 * MINUTES,
  );

  it(
    '7. a site plugin that breaks the home page is refused by its trial task before any traffic',
    async () => {
      // Prepare: /healthz stays 200, every front-end page answers 500.
      const serving = (await status()).service?.taskDefinition;
      const source = siteCopy('broken-home');
      writeFileSync(
        join(source, 'mu-plugins', 'broken-home.php'),
        "<?php\nadd_action('template_redirect', static function (): void {\n\twp_die('broken by e2e test 7', 'Site error', ['response' => 500]);\n});\n",
      );
      // Act
      const run = await cli(['release', '--source', source, '--json']);
      const result = json<ReleaseJson>(run);
      const notice = lastNotification();
      // Assess
      expect(run.code).toBe(1);
      expect(result.outcome).toBe('FAILED');
      expect(result.failure).toMatchObject({ step: 'CheckTrial', error: 'TrialFailed' });
      expect(notice.message).toMatch(
        /FAILED at step CheckTrial \(TrialFailed\): the trial task answered wrongly 2 time\(s\) in a row: \/ answered 500/,
      );
      expect(run.stderr).not.toContain('DeployService');
      expect(trialContainers()).toEqual([]);
      // Its code changed no schema: the rollback says nothing about one.
      expect(result.record?.schema).toMatchObject({ status: 'READ', change: { changed: false } });
      expect(result.cause).not.toMatch(/schema/i);
      expect(notice.message).not.toMatch(/schema/i);
      expect((await status()).service?.taskDefinition).toBe(serving);
      expect((await fetch(`${SITE}/`)).status).toBe(200);
    },
    15 * MINUTES,
  );

  it(
    '8. a release whose code changed the schema is rolled back: the outcome says the schema was not, and names the snapshot',
    async () => {
      // Prepare: on its first load (the trial task's) the code adds a table and a column
      // (db_version untouched); every front-end page answers 500, but only behind the load
      // balancer (X-Forwarded-For), so the trial passes it and SmokeTest fails after the rollout.
      const serving = (await status()).service?.taskDefinition;
      const source = siteCopy('schema-change');
      writeFileSync(
        join(source, 'mu-plugins', 'schema-change.php'),
        `<?php
// e2e test 8: changes the schema on first load, then breaks the home page behind the load balancer.
add_action('muplugins_loaded', static function (): void {
    global $wpdb;
    $wpdb->query("CREATE TABLE IF NOT EXISTS {$wpdb->prefix}e2e_release_log (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, note VARCHAR(191) NOT NULL) {$wpdb->get_charset_collate()}");
    if ($wpdb->get_var("SHOW COLUMNS FROM {$wpdb->posts} LIKE 'e2e_flag'") === null) {
        $wpdb->query("ALTER TABLE {$wpdb->posts} ADD COLUMN e2e_flag TINYINT NOT NULL DEFAULT 0");
    }
});
add_action('template_redirect', static function (): void {
    if (!empty($_SERVER['HTTP_X_FORWARDED_FOR'])) {
        wp_die('broken by e2e test 8', 'Site error', ['response' => 500]);
    }
});
`,
      );
      // Act
      const run = await cli(['release', '--source', source, '--json']);
      const result = json<ReleaseJson>(run);
      const notice = lastNotification();
      const snapshot = result.record?.snapshotId ?? '(no snapshot recorded)';
      // Assess
      expect(run.code, run.stderr.slice(-3000)).toBe(1);
      expect(result.outcome).toBe('ROLLED_BACK');
      expect(result.failure).toMatchObject({ step: 'SmokeTest', error: 'SmokeTestError' });
      const said = new RegExp(
        `which is healthy\\. .* The code was rolled back but the schema was not: db_version \\d+ unchanged; tables added: wp_e2e_release_log; columns added: wp_posts\\.e2e_flag; restore the pre-release snapshot ${snapshot} to undo it\\.$`,
      );
      expect(result.cause).toMatch(said);
      expect(notice.message).toMatch(said);
      expect(result.record?.schema).toMatchObject({
        status: 'READ',
        change: {
          changed: true,
          tablesAdded: ['wp_e2e_release_log'],
          tablesRemoved: [],
          columnsAdded: ['wp_posts.e2e_flag'],
          columnsRemoved: [],
        },
      });
      // The snapshot named is the one taken before this release, and it is there to restore.
      expect(existsSync(join(HOME, 'snapshots', snapshot, 'dump.sql'))).toBe(true);
      expect((await status()).service?.taskDefinition).toBe(serving);
      expect((await fetch(`${SITE}/`)).status).toBe(200);
    },
    15 * MINUTES,
  );

  it(
    '9. a PHP syntax error in the site is refused at build, naming the file and the line',
    async () => {
      // Prepare
      const serving = (await status()).service?.taskDefinition;
      const source = siteCopy('syntax-error');
      writeFileSync(
        join(source, 'mu-plugins', 'typo.php'),
        "<?php\n// a missing semicolon\necho 'hello'\n$x = 1;\n",
      );
      // Act
      const run = await cli(['release', '--source', source, '--json']);
      const result = json<ReleaseJson>(run);
      // Assess
      expect(run.code).toBe(1);
      expect(result.outcome).toBe('FAILED');
      expect(result.failure).toMatchObject({ step: 'BuildImage', error: 'ImageBuildError' });
      expect(result.failure?.reason).toMatch(
        /site PHP does not parse: .*syntax error.* in site\/mu-plugins\/typo\.php on line 4/,
      );
      expect((await status()).service?.taskDefinition).toBe(serving);
    },
    15 * MINUTES,
  );

  it(
    '10. down leaves no container, volume or network of ours behind',
    async () => {
      // Act
      const run = await cli(['down', '--json']);
      // Assess
      expect(run.code).toBe(0);
      expect(ourContainers()).toEqual([]);
      const volumes = execFileSync(
        'docker',
        ['volume', 'ls', '-q', '--filter', `label=stepdeploy.service=${SERVICE}`],
        { encoding: 'utf8' },
      );
      const networks = execFileSync(
        'docker',
        ['network', 'ls', '-q', '--filter', `label=stepdeploy.service=${SERVICE}`],
        { encoding: 'utf8' },
      );
      expect(volumes.trim()).toBe('');
      expect(networks.trim()).toBe('');
      expect(existsSync(HOME)).toBe(false);
    },
    5 * MINUTES,
  );
});
