import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { SALT_KEYS } from '#functions/generate-salts/generate-salts.ts';
import { type DatabaseHandle, removeDatabase, startDatabase } from '#local/database.ts';
import { buildImage, type ImageBuildResult } from '#local/packer.ts';
import { ensureRegistry, removeRegistry } from '#local/registry.ts';
import { generatePassword, writeSecret } from '#local/secrets.ts';
import { screenshotPage } from '../support/browser.ts';

// The WordPress image end to end: a real Packer + Ansible build pushed to a real registry,
// run read-only as non-root against a real MariaDB, installed through WordPress's own
// install form and looked at by a real Chromium.

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const OUTPUT_DIR = join(ROOT, 'test-output');
/** A registry of this test's own (local/registry.ts), beside the stack's on 5000. */
const REGISTRY_SERVICE = `image-test-${process.pid}`;
const REGISTRY_PORT = 5001;
const REGISTRY = `127.0.0.1:${REGISTRY_PORT}`;
const REPOSITORY = 'stepdeploy-test/wordpress';
const PREFIX = `stepdeploy-test-image-${process.pid}`;
const SITE_TITLE = `Stepdeploy Image Test ${process.pid}`;
const DB_NAME = `img-test-${process.pid}`;
const UPLOADS = '/var/lib/wordpress/wp-content/uploads';
/** Signs of PHP internals leaking to a visitor. */
const LEAK_RE = /Fatal error|Stack trace|#0 \/|\.php on line|Uncaught|mysqli_sql_exception/i;
/** The role's sizing constants: the tests derive the expected sizing from the same numbers. */
const ROLE_DEFAULTS = parseYaml(
  readFileSync(join(ROOT, 'ansible/roles/wordpress/defaults/main.yml'), 'utf8'),
) as Record<string, number>;
/**
 * A test-only page mounted read-only into the document root: the PHP settings Apache's
 * workers really run with (the image itself offers no such page).
 */
const PROBE_PHP = `<?php
header('Content-Type: application/json');
$c = opcache_get_configuration();
$s = opcache_get_status(false);
echo json_encode([
  'memory_limit' => ini_get('memory_limit'),
  'memory_limit_raised' => @ini_set('memory_limit', '1024M') !== false,
  'opcache_enabled' => $s !== false && $s['opcache_enabled'],
  'opcache_memory_consumption' => $c['directives']['opcache.memory_consumption'],
  'opcache_interned_strings_buffer' => $c['directives']['opcache.interned_strings_buffer'],
  'opcache_max_accelerated_files' => $c['directives']['opcache.max_accelerated_files'],
  'opcache_validate_timestamps' => $c['directives']['opcache.validate_timestamps'],
]);
`;
const PROBE_PATH = '/usr/share/wordpress/stepdeploy-test-probe.php';

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolvePort(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

interface Answer {
  status: number;
  body: string;
  headers: Headers;
}

/** The output of a shell script run in a throw-away container of the image, as its user. */
function shellInImage(imageUri: string, script: string): Promise<string> {
  return docker('run', '--rm', '--entrypoint', 'sh', imageUri, '-c', script);
}

async function get(port: number, path: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { redirect: 'manual', ...init });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

const started: string[] = [];
const volumes: string[] = [];
let workDir: string;
let secretsDir: string;
let probeFile: string;
let release: ImageBuildResult;
let faulty: ImageBuildResult;
let brokenHome: ImageBuildResult;
let crashOnStart: ImageBuildResult;
let ownSite: ImageBuildResult;
let ownSiteDir: string;
let database: DatabaseHandle | undefined;
let databasePort: number;
let siteMain: { container: string; port: number } | undefined;

/** The installed site of the ordered flow above; later tests build on it. */
function requireSite(): { container: string; port: number } {
  if (!siteMain) throw new Error('the installed site did not come up (see the earlier test)');
  return siteMain;
}

/**
 * The scratch volumes of the task definition as Fargate makes them for this image: it
 * declares /tmp and /run as VOLUME, so each is a fresh volume filled with the image's
 * directory (Docker does the same for a fresh anonymous volume). No tmpfs.
 */
const SCRATCH_VOLUMES = ['--mount', 'type=volume,dst=/tmp', '--mount', 'type=volume,dst=/run'];

/**
 * Runs the image the way the task definition does: host network, loopback, read-only root,
 * scratch volumes at /tmp and /run; `docker` holds further `docker run` options.
 */
async function startSite(
  name: string,
  imageUri: string,
  env: Record<string, string>,
  opts: { port?: number; withUploads?: boolean; docker?: string[] } = {},
): Promise<{ container: string; port: number }> {
  const port = opts.port ?? (await freePort());
  const container = `${PREFIX}-${name}`;
  const args = ['run', '-d', '--name', container, '--label', 'stepdeploy-test=image'];
  args.push('--network', 'host', '--read-only', ...SCRATCH_VOLUMES);
  args.push('-v', `${secretsDir}:/run/secrets:ro`, ...(opts.docker ?? []));
  if (opts.withUploads) {
    const volume = `${container}-uploads`;
    volumes.push(volume);
    args.push('-v', `${volume}:${UPLOADS}`);
  }
  for (const [key, value] of Object.entries({
    BIND_ADDRESS: '127.0.0.1',
    PORT: String(port),
    ...env,
  }))
    args.push('-e', `${key}=${value}`);
  started.push(container);
  await docker(...args, imageUri);
  await until(`${container} to answer /healthz`, async () => {
    const state = await docker('inspect', '-f', '{{.State.Running}}', container);
    if (state !== 'true') throw new Error(`${container} stopped: ${await logs(container)}`);
    return (await get(port, '/healthz')).status;
  });
  return { container, port };
}

interface Sizing {
  cpu: number;
  cpuFrom: string;
  memory: number;
  memoryFrom: string;
  workers: number;
  workersFrom: string;
  phpMemoryLimit: number;
  opcache: number;
  listenBacklog: number;
}

/** The one sizing line the entrypoint logs at start. */
function sizingOf(log: string): Sizing {
  const m =
    /stepdeploy-entrypoint: sizing: cpu=(\d+)m \(([\w-]+)\) memory=(\d+)MiB \(([\w-]+)\) workers=(\d+) \(([\w-]+)\) php_memory_limit=(\d+)M \([\w-]+\) opcache=(\d+)MB listen_backlog=(\d+)/.exec(
      log,
    );
  if (!m) throw new Error(`no sizing line in:\n${log}`);
  return {
    cpu: Number(m[1]),
    cpuFrom: m[2],
    memory: Number(m[3]),
    memoryFrom: m[4],
    workers: Number(m[5]),
    workersFrom: m[6],
    phpMemoryLimit: Number(m[7]),
    opcache: Number(m[8]),
    listenBacklog: Number(m[9]),
  };
}

/** The sizing rule of the role (see its defaults), for a container of `cpu` millicores. */
function expectedSizing(cpu: number, memory: number) {
  const d = ROLE_DEFAULTS;
  const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
  const opcache = Math.max(16, Math.min(d.wordpress_sizing_opcache_mib, Math.trunc(memory / 8)));
  const budget =
    Math.trunc((memory * (100 - d.wordpress_sizing_memory_headroom_percent)) / 100) -
    d.wordpress_sizing_parent_mib -
    opcache;
  let workers = clamp(
    Math.ceil((cpu * d.wordpress_sizing_workers_per_cpu) / 1000),
    d.wordpress_sizing_workers_min,
    d.wordpress_sizing_workers_max,
  );
  const php = clamp(
    Math.trunc((Math.trunc(budget / workers) - d.wordpress_sizing_worker_base_mib) / 16) * 16,
    d.wordpress_sizing_php_memory_limit_min_mib,
    d.wordpress_sizing_php_memory_limit_max_mib,
  );
  const fit = Math.trunc(budget / (php + d.wordpress_sizing_worker_base_mib));
  const byMemory = workers > fit;
  if (byMemory) workers = Math.max(1, fit);
  const listenBacklog = Math.max(
    d.wordpress_sizing_listen_backlog_min,
    Math.trunc((cpu * d.wordpress_sizing_queue_seconds) / d.wordpress_sizing_cpu_ms_per_request),
  );
  return {
    workers,
    workersFrom: byMemory ? 'memory' : 'cpu',
    phpMemoryLimit: php,
    opcache,
    listenBacklog,
  };
}

/** `docker run --rm` to completion: exit code and both streams. */
async function runToExit(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('docker', ['run', '--rm', ...args], {
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** The sizing line of the image's entrypoint, started with a configuration check only. */
async function sizingAt(dockerArgs: string[]): Promise<{ sizing: Sizing; output: string }> {
  const { code, output } = await runToExit([
    '--network',
    'host',
    '--read-only',
    '--user',
    '33:33',
    ...SCRATCH_VOLUMES,
    ...dockerArgs,
    release.imageUri,
    'apache2',
    '-t',
  ]);
  expect(code, output).toBe(0);
  expect(output).toContain('Syntax OK');
  return { sizing: sizingOf(output), output };
}

/** Host memory as the container's /proc/meminfo shows it (MiB). */
async function hostMemoryMiB(): Promise<number> {
  const meminfo = await readFile('/proc/meminfo', 'utf8');
  return Math.trunc(Number(/^MemTotal:\s+(\d+) kB$/m.exec(meminfo)?.[1]) / 1024);
}

/** Backlog (Send-Q) of the listening socket on 127.0.0.1:port, as the kernel holds it. */
async function listenBacklog(port: number): Promise<number> {
  const { stdout } = await run('ss', ['-ltnH', 'sport', '=', `:${port}`]);
  const fields = stdout.trim().split(/\s+/);
  return Number(fields[2]);
}

async function apacheProcesses(container: string): Promise<number> {
  return Number(await docker('exec', container, 'pgrep', '-c', '-x', 'apache2'));
}

async function logs(container: string): Promise<string> {
  const { stdout, stderr } = await run('docker', ['logs', container], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout + stderr;
}

function dbEnv(passwordFile = '/run/secrets/db-password'): Record<string, string> {
  const env: Record<string, string> = {
    WORDPRESS_DB_HOST: `127.0.0.1:${databasePort}`,
    WORDPRESS_DB_NAME: 'wordpress',
    WORDPRESS_DB_USER: 'wordpress',
    WORDPRESS_DB_PASSWORD_FILE: passwordFile,
  };
  for (const salt of SALT_KEYS)
    env[`WORDPRESS_${salt}_FILE`] = `/run/secrets/${salt.toLowerCase()}`;
  return env;
}

/** dbEnv() for a second site on `port` of the installed database (no canonical redirect). */
function siteEnv(port: number): Record<string, string> {
  return { ...dbEnv(), WORDPRESS_SITE_URL: `http://127.0.0.1:${port}` };
}

/** Writes a secret file the image user (uid 33, www-data) can read and nobody else. */
async function writeImageSecret(name: string, value: string): Promise<void> {
  const path = join(secretsDir, name);
  await writeFile(path, value, { mode: 0o600 });
  await chown(path, 33, 33);
}

/**
 * A site as its owner keeps it: a child theme of the theme the image ships, a plugin whose
 * main file is not the first PHP file of its directory, a must-use plugin, PHP settings, a
 * .git directory and an executable file. Each piece of code announces itself in a header.
 */
async function writeOwnSite(dir: string): Promise<string> {
  const files: Record<string, string> = {
    'site.yml': 'theme: kid\nplugins: [greeter]\nphp:\n  max_input_vars: 2345\n',
    'themes/kid/style.css': '/*\nTheme Name: Kid\n Template: twentytwentyfive\n*/\n',
    'themes/kid/functions.php':
      "<?php\nadd_action('send_headers', static fn () => header('X-Own-Theme: kid'));\n",
    'plugins/greeter/a-helpers.php': '<?php\n// Helpers: no plugin header here.\n',
    'plugins/dormant/dormant.php': '<?php\n// Not a plugin yet: no header.\n',
    'plugins/greeter/greeter.php':
      "<?php\n/**\n * Plugin Name: Greeter\n */\nadd_action('send_headers', static fn () => header('X-Own-Plugin: greeter'));\n",
    'mu-plugins/own-mu.php':
      "<?php\nadd_action('send_headers', static fn () => header('X-Own-Mu: yes'));\n",
    'themes/kid/.git/HEAD': 'ref: refs/heads/main\n',
    'themes/kid/tools/build.sh': '#!/bin/sh\necho build\n',
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  await chmod(join(dir, 'themes/kid/tools/build.sh'), 0o755);
  return dir;
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'stepdeploy-image-test-'));
  secretsDir = join(workDir, 'secrets');
  await mkdir(secretsDir, { mode: 0o755 });
  probeFile = join(workDir, 'probe.php');
  await writeFile(probeFile, PROBE_PHP);
  await chmod(probeFile, 0o644);
  await mkdir(OUTPUT_DIR, { recursive: true });
  await run(join(ROOT, 'scripts/base-image.sh'), []);
  await ensureRegistry({ service: REGISTRY_SERVICE, port: REGISTRY_PORT });

  const revision = `e2e${Date.now().toString(36)}`;
  release = await buildImage({
    sourceRevision: revision,
    registry: REGISTRY,
    repository: REPOSITORY,
  });
  // The deliberately bad releases differ from it in the app stage only: built side by side.
  const fault = (tag: string, extraVars: Record<string, string>) =>
    buildImage({
      sourceRevision: revision,
      registry: REGISTRY,
      repository: REPOSITORY,
      tag: `${revision}-${tag}`,
      extraVars,
    });
  ownSiteDir = await writeOwnSite(join(workDir, 'own-site'));
  [faulty, brokenHome, crashOnStart, ownSite] = await Promise.all([
    fault('fault', { wordpress_fault_healthz_status: '500' }),
    fault('broken-home', { wordpress_fault_home_status: '500' }),
    fault('crash', { wordpress_fault_start_exit: '3' }),
    buildImage({
      sourceRevision: revision,
      registry: REGISTRY,
      repository: REPOSITORY,
      tag: `${revision}-own-site`,
      siteDir: ownSiteDir,
    }),
  ]);

  databasePort = await freePort();
  // The database password exists before the database does, as on AWS where the secret
  // precedes the instance; startDatabase adopts the file it finds.
  const password = generatePassword();
  await writeSecret(join(workDir, 'state', 'secrets', `${DB_NAME}-password`), password);
  await writeImageSecret('db-password', password);
  for (const salt of SALT_KEYS)
    await writeImageSecret(salt.toLowerCase(), `${salt}-${process.pid}-${Math.random()}`);
  await writeImageSecret('wrong-password', 'not-the-password');
});

afterAll(async () => {
  // -v: the anonymous /tmp and /run volumes go with their container.
  for (const container of started) await docker('rm', '-f', '-v', container).catch(() => '');
  for (const volume of volumes) await docker('volume', 'rm', '-f', volume).catch(() => '');
  if (database) await removeDatabase(database).catch(() => undefined);
  await removeRegistry({ service: REGISTRY_SERVICE }).catch(() => undefined);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('the WordPress image built by Packer + Ansible', () => {
  it('is pushed by digest with its metadata', async () => {
    // Prepare
    const manifestUrl = `http://${REGISTRY}/v2/${REPOSITORY}/manifests/${release.imageDigest}`;

    // Act
    const config = JSON.parse(
      await docker('image', 'inspect', '-f', '{{json .Config}}', release.imageUri),
    );
    const manifest = await fetch(manifestUrl, {
      headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });

    // Assess
    expect(release.imageUri).toMatch(
      /^127\.0\.0\.1:5001\/stepdeploy-test\/wordpress@sha256:[0-9a-f]{64}$/,
    );
    expect(manifest.status).toBe(200);
    expect(config.User).toBe('www-data');
    expect(Object.keys(config.ExposedPorts)).toEqual(['8080/tcp']);
    // The task definition's scratch volumes, declared so Fargate copies the image's dirs.
    expect(Object.keys(config.Volumes ?? {}).sort()).toEqual(['/run', '/tmp']);
    expect(config.Entrypoint).toEqual(['/usr/local/bin/stepdeploy-entrypoint']);
    expect(config.Labels['org.opencontainers.image.revision']).toMatch(/^e2e/);
    // The fault build reused the base stage and rebuilt only the app stage.
    expect(faulty.baseReused).toBe(true);
    expect(faulty.appStageSkipped).toBe(false);
    expect(faulty.imageDigest).not.toBe(release.imageDigest);
  });

  it('serves /healthz at once, /readyz 503 until the database is up and installed, then 200', async () => {
    // Prepare: the site starts before its database exists.
    const port = await freePort();
    const site = await startSite(
      'main',
      release.imageUri,
      { ...dbEnv(), WORDPRESS_SITE_URL: `http://127.0.0.1:${port}` },
      {
        port,
        withUploads: true,
      },
    );

    // Act + Assess: alive at once, not ready while the database is missing.
    expect(await get(port, '/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
    expect(await get(port, '/readyz')).toMatchObject({ status: 503, body: 'db-unreachable\n' });
    expect(await logs(site.container)).toContain('stepdeploy readyz: db-unreachable');

    // Act: the database comes up; WordPress is not installed yet.
    database = await startDatabase({
      name: DB_NAME,
      port: databasePort,
      stateDir: join(workDir, 'state'),
    });
    const notInstalled = await until('readyz to report not-installed', async () => {
      const answer = await get(port, '/readyz');
      return answer.body === 'db-unreachable\n' ? undefined : answer;
    });
    // Assess
    expect(notInstalled).toMatchObject({ status: 503, body: 'not-installed\n' });

    // Act: install through WordPress's own form.
    const form = await get(port, '/wp-admin/install.php');
    const adminPassword = `Pw-${process.pid}-${Math.random()}`;
    const install = await get(port, '/wp-admin/install.php?step=2', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        weblog_title: SITE_TITLE,
        user_name: 'stepdeploy',
        admin_password: adminPassword,
        admin_password2: adminPassword,
        pw_weak: 'on',
        admin_email: 'admin@example.invalid',
        blog_public: '0',
        language: '',
      }).toString(),
    });

    // Assess
    expect(form.status).toBe(200);
    expect(form.body).toContain('weblog_title');
    expect(install.status).toBe(200);
    expect(install.body).toContain('Success!');
    expect(await get(port, '/readyz')).toMatchObject({ status: 200, body: 'ready\n' });
    const home = await get(port, '/');
    expect(home.status).toBe(200);
    expect(home.body).toContain(SITE_TITLE);
    siteMain = { ...site, port };
  });

  it('runs as non-root on a read-only root filesystem with a writable uploads volume', async () => {
    // Prepare
    const { container } = requireSite();

    // Act
    const uid = await docker('exec', container, 'id', '-u');
    const inspect = JSON.parse(await docker('inspect', container))[0];
    const rootWrite = await run('docker', [
      'exec',
      container,
      'touch',
      '/usr/share/wordpress/probe',
    ]).then(
      () => 'written',
      (err: { stderr?: string }) => err.stderr ?? 'failed',
    );
    await docker('exec', container, 'touch', `${UPLOADS}/probe`);

    // Assess
    expect(Number(uid)).toBeGreaterThan(0);
    expect(inspect.Config.User).toBe('www-data');
    expect(inspect.HostConfig.ReadonlyRootfs).toBe(true);
    expect(rootWrite).toMatch(/Read-only file system/);
  });

  it('fails as Fargate would on an empty root-owned /tmp, saying what is wrong and how to fix it', async () => {
    // Prepare: what Fargate mounts at a task-volume path the image does not declare as a
    // VOLUME: an empty directory owned by root with mode 0755. A bind mount never copies
    // the image's directory, so this is exactly a VOLUME-less image on Fargate.
    const emptyTmp = join(workDir, 'fargate-undeclared-tmp');
    const emptyRun = join(workDir, 'fargate-undeclared-run');
    for (const dir of [emptyTmp, emptyRun]) {
      await mkdir(dir, { mode: 0o755 });
      await chmod(dir, 0o755);
      await chown(dir, 0, 0);
    }

    // Act
    const { code, output } = await runToExit([
      '--network',
      'host',
      '--read-only',
      '--user',
      '33:33',
      '-v',
      `${emptyTmp}:/tmp`,
      '-v',
      `${emptyRun}:/run`,
      '-e',
      'BIND_ADDRESS=127.0.0.1',
      '-e',
      `PORT=${await freePort()}`,
      release.imageUri,
    ]);

    // Assess: EX_CANTCREAT, what is wrong (names /tmp, its owner and mode, the uid) and
    // how to fix it (a volume the image initialises, or a tmpfs).
    expect(code).toBe(73);
    expect(output).toContain(
      'cannot create /tmp/apache2: /tmp is not writable by uid 33 (/tmp is root:root mode 755)',
    );
    expect(output).toContain('VOLUME /tmp /run');
    expect(output).toContain('--mount type=volume,dst=/tmp');
    expect(output).toContain('--tmpfs /tmp');
    expect(output).not.toContain('listening on');
  });

  it('starts on fresh volumes at /tmp and /run, which Docker and Fargate fill from its VOLUMEs', async () => {
    // Prepare: the image as shipped.
    const shipped = await docker(
      'run',
      '--rm',
      '--entrypoint',
      'stat',
      release.imageUri,
      '-c',
      '%n %a %U:%G',
      '/tmp',
      '/run',
    );
    requireSite();

    // Act: anonymous volumes (no tmpfs), uid 33, read-only root, as the task definition.
    const port = await freePort();
    const site = await startSite('volumes', release.imageUri, siteEnv(port), {
      port,
      docker: ['--user', '33:33'],
    });
    const inspect = JSON.parse(await docker('inspect', site.container))[0];
    const health = await get(site.port, '/healthz');
    const home = await get(site.port, '/');
    const write = await docker(
      'exec',
      site.container,
      'sh',
      '-c',
      'touch /tmp/probe && stat -c "%a %U:%G" /tmp && id -u && ls /tmp/apache2',
    );

    // Assess
    expect(shipped.split('\n')).toEqual(['/tmp 1777 root:root', '/run 755 root:root']);
    expect(inspect.HostConfig.Tmpfs ?? {}).toEqual({});
    const scratch = (inspect.Mounts as { Type: string; Destination: string }[])
      .filter((m) => m.Destination === '/tmp' || m.Destination === '/run')
      .map((m) => `${m.Type} ${m.Destination}`)
      .sort();
    expect(scratch).toEqual(['volume /run', 'volume /tmp']);
    expect(health.status).toBe(200);
    expect(home.status).toBe(200);
    expect(home.body).toContain(SITE_TITLE);
    expect(write.split('\n').slice(0, 2)).toEqual(['1777 root:root', '33']);
    expect(write).toContain('sizing.conf');
  });

  it('sizes Apache and PHP to --cpus 0.5 --memory 1g, and holds a burst to that many workers', async () => {
    // Prepare
    requireSite();
    const expected = expectedSizing(500, 1024);

    // Act
    const port = await freePort();
    const site = await startSite('sized-small', release.imageUri, siteEnv(port), {
      port,
      docker: ['--cpus', '0.5', '--memory', '1g', '-v', `${probeFile}:${PROBE_PATH}:ro`],
    });
    const sizing = sizingOf(await logs(site.container));
    const probe = JSON.parse((await get(site.port, '/stepdeploy-test-probe.php')).body);
    const idle = await apacheProcesses(site.container);
    // A burst of 4x as many clients as workers: the excess waits, no process is added.
    let most = idle;
    let bursting = true;
    const sampler = (async () => {
      while (bursting) {
        most = Math.max(most, await apacheProcesses(site.container));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const burst = await Promise.all(
      Array.from({ length: expected.workers * 4 }, () => get(site.port, '/')),
    );
    bursting = false;
    await sampler;

    // Assess: the sizing line.
    expect(sizing).toMatchObject({
      cpu: 500,
      cpuFrom: expect.stringMatching(/^cgroup-v[12]$/),
      memory: 1024,
      memoryFrom: expect.stringMatching(/^cgroup-v[12]$/),
      ...expected,
    });
    // The settings PHP really runs with.
    expect(probe).toEqual({
      memory_limit: `${expected.phpMemoryLimit}M`,
      memory_limit_raised: false,
      opcache_enabled: true,
      opcache_memory_consumption: expected.opcache * 1024 * 1024,
      opcache_interned_strings_buffer: ROLE_DEFAULTS.wordpress_opcache_interned_strings_mib,
      opcache_max_accelerated_files: ROLE_DEFAULTS.wordpress_opcache_max_accelerated_files,
      opcache_validate_timestamps: false,
    });
    // Apache: the kernel's listen queue, the prestarted pool and its ceiling (+1: the parent).
    expect(await listenBacklog(site.port)).toBe(expected.listenBacklog);
    expect(idle).toBe(expected.workers + 1);
    expect(most).toBe(expected.workers + 1);
    expect(burst.map((a) => a.status)).toEqual(burst.map(() => 200));
    const keepAlive = await fetch(`http://127.0.0.1:${site.port}/healthz`);
    expect(keepAlive.headers.get('connection')).toBe('close');
  });

  it('sizes differently at --cpus 2 --memory 512m: memory, not CPU, bounds the workers', async () => {
    // Prepare
    requireSite();
    const expected = expectedSizing(2000, 512);

    // Act
    const port = await freePort();
    const site = await startSite('sized-memory', release.imageUri, siteEnv(port), {
      port,
      docker: ['--cpus', '2', '--memory', '512m', '-v', `${probeFile}:${PROBE_PATH}:ro`],
    });
    const sizing = sizingOf(await logs(site.container));
    const probe = JSON.parse((await get(site.port, '/stepdeploy-test-probe.php')).body);
    const home = await get(site.port, '/');

    // Assess: 2 CPUs alone would allow more workers than 512 MiB can hold at PHP's minimum.
    expect(expected).toMatchObject({ workersFrom: 'memory' });
    expect(expected.workers).toBeLessThan(
      Math.ceil((2000 * ROLE_DEFAULTS.wordpress_sizing_workers_per_cpu) / 1000),
    );
    expect(sizing).toMatchObject({ cpu: 2000, memory: 512, ...expected });
    expect(probe.memory_limit).toBe(`${expected.phpMemoryLimit}M`);
    expect(probe.opcache_memory_consumption).toBe(expected.opcache * 1024 * 1024);
    expect(await apacheProcesses(site.container)).toBe(expected.workers + 1);
    expect(await listenBacklog(site.port)).toBe(expected.listenBacklog);
    expect(home.status).toBe(200);
    // Both limits fit: workers x (memory_limit + a worker) + parent + opcache < memory.
    const need =
      expected.workers *
        (expected.phpMemoryLimit + ROLE_DEFAULTS.wordpress_sizing_worker_base_mib) +
      ROLE_DEFAULTS.wordpress_sizing_parent_mib +
      expected.opcache;
    expect(need).toBeLessThan(512);
  });

  it('reads cgroup v2, the ECS task metadata and the host when unlimited, and honours overrides', async () => {
    // Prepare: a cgroup v2 view (this host runs v1), and an ECS task metadata endpoint on
    // loopback answering like Fargate's for a 0.25 vCPU / 512 MiB task.
    const v2 = join(workDir, 'cgroup-v2');
    await mkdir(v2, { recursive: true });
    await writeFile(join(v2, 'cpu.max'), '150000 100000\n');
    await writeFile(join(v2, 'memory.max'), `${768 * 1024 * 1024}\n`);
    const metadata = createHttpServer((req, res) => {
      res.writeHead(req.url === '/v4/test-task/task' ? 200 : 404, {
        'Content-Type': 'application/json',
      });
      res.end(
        JSON.stringify({
          Cluster: 'test',
          Limits: { CPU: 0.25, Memory: 512 },
          Containers: [{ Name: 'wordpress', Limits: { CPU: 0, Memory: 0 } }],
        }),
      );
    });
    await new Promise<void>((r) => metadata.listen(0, '127.0.0.1', r));
    const address = metadata.address();
    const metadataPort = typeof address === 'object' && address ? address.port : 0;
    const hostCpu = availableParallelism() * 1000;
    const hostMemory = await hostMemoryMiB();

    try {
      // Act
      const unlimited = await sizingAt([]);
      const cgroupV2 = await sizingAt([
        '-v',
        `${v2}:/cgroup-v2:ro`,
        '-e',
        'STEPDEPLOY_CGROUP_DIR=/cgroup-v2',
      ]);
      const ecs = await sizingAt([
        '--cpus',
        '0.5',
        '-e',
        `ECS_CONTAINER_METADATA_URI_V4=http://127.0.0.1:${metadataPort}/v4/test-task`,
      ]);
      const overridden = await sizingAt([
        '--cpus',
        '0.5',
        '--memory',
        '1g',
        '-e',
        'APACHE_MAX_WORKERS=3',
        '-e',
        'PHP_MEMORY_LIMIT=128M',
      ]);
      const bad = await runToExit([
        '--read-only',
        ...SCRATCH_VOLUMES,
        '-e',
        'APACHE_MAX_WORKERS=many',
        release.imageUri,
      ]);

      // Assess
      expect(unlimited.sizing).toMatchObject({
        cpu: hostCpu,
        cpuFrom: 'host',
        memory: hostMemory,
        memoryFrom: 'host',
        ...expectedSizing(hostCpu, hostMemory),
      });
      const v2Cpu = Math.min(1500, hostCpu);
      expect(cgroupV2.sizing).toMatchObject({
        cpu: v2Cpu,
        memory: 768,
        memoryFrom: 'cgroup-v2',
        ...expectedSizing(v2Cpu, 768),
      });
      expect(ecs.sizing).toMatchObject({
        cpu: 250,
        cpuFrom: 'ecs-task-metadata',
        memory: 512,
        memoryFrom: 'ecs-task-metadata',
        ...expectedSizing(250, 512),
      });
      expect(overridden.sizing).toMatchObject({
        cpu: 500,
        memory: 1024,
        workers: 3,
        workersFrom: 'APACHE_MAX_WORKERS',
        phpMemoryLimit: 128,
      });
      expect(bad.code).toBe(64);
      expect(bad.output).toContain("APACHE_MAX_WORKERS='many' is not a positive number of workers");
    } finally {
      await new Promise((r) => metadata.close(r));
    }
  });

  it('shows the home page in a real browser', async () => {
    // Prepare
    const { port } = requireSite();
    const path = join(OUTPUT_DIR, 'image-home.png');
    await rm(path, { force: true });

    // Act
    const shot = await screenshotPage(`http://127.0.0.1:${port}/`, path);

    // Assess
    expect(shot.status).toBe(200);
    expect(shot.title).toContain(SITE_TITLE);
    expect(shot.text).toContain(SITE_TITLE);
    const png = await readFile(path);
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect((await stat(path)).size).toBeGreaterThan(10_000);
  });

  it('hardens the surface: no XML-RPC, no listing, no versions', async () => {
    // Prepare
    const { port } = requireSite();

    // Act
    const xmlrpcGet = await get(port, '/xmlrpc.php');
    const xmlrpcPost = await get(port, '/xmlrpc.php', {
      method: 'POST',
      headers: { 'Content-Type': 'text/xml' },
      body: '<?xml version="1.0"?><methodCall><methodName>system.listMethods</methodName></methodCall>',
    });
    const listing = await get(port, '/wp-content/uploads/');
    const home = await get(port, '/');

    // Assess
    expect(xmlrpcGet.status).toBe(403);
    expect(xmlrpcPost.status).toBe(403);
    expect(listing.body).not.toContain('Index of');
    expect(listing.status).not.toBe(200);
    expect(home.headers.get('server')).toBe('Apache');
    expect(home.headers.get('x-powered-by')).toBeNull();
    expect(home.headers.get('x-pingback')).toBeNull();
  });

  it('says what is wrong when the database host is missing, without a stack trace', async () => {
    // Prepare
    const env = dbEnv();
    delete env.WORDPRESS_DB_HOST;

    // Act
    const site = await startSite('no-host', release.imageUri, env);
    const ready = await get(site.port, '/readyz');
    const home = await get(site.port, '/');

    // Assess
    expect(ready).toMatchObject({ status: 503, body: 'misconfigured\n' });
    expect(home.status).toBe(503);
    expect(home.body).not.toMatch(LEAK_RE);
    const log = await logs(site.container);
    expect(log).toContain('WORDPRESS_DB_HOST is not set');
    expect(log).toContain('stepdeploy readyz: misconfigured: missing WORDPRESS_DB_HOST');
  });

  it('says what is wrong when the password is wrong, without a stack trace', async () => {
    // Prepare
    requireSite();
    const env = dbEnv('/run/secrets/wrong-password');

    // Act
    const site = await startSite('bad-password', release.imageUri, env);
    const ready = await get(site.port, '/readyz');
    const home = await get(site.port, '/');

    // Assess
    expect(ready).toMatchObject({ status: 503, body: 'db-auth\n' });
    expect(home.status).toBeGreaterThanOrEqual(500);
    expect(home.body).not.toMatch(LEAK_RE);
    expect(home.body).not.toContain('not-the-password');
    const log = await logs(site.container);
    expect(log).toMatch(
      /stepdeploy readyz: db-auth: the database at 127\.0\.0\.1:\d+ refused user 'wordpress'/,
    );
    expect(log).not.toContain('not-the-password');
  });

  it("ships the site's own code: a child theme, a plugin found by its header, PHP settings", async () => {
    // Prepare
    requireSite();
    const port = await freePort();

    // Act
    const site = await startSite('own-site', ownSite.imageUri, siteEnv(port), { port });
    const home = await get(site.port, '/');
    const inside = await shellInImage(
      ownSite.imageUri,
      [
        'cat /usr/share/stepdeploy/site.json',
        'echo; grep max_input_vars /etc/php/8.4/apache2/conf.d/99-zz-site.ini',
        'cd /var/lib/wordpress/wp-content',
        'find themes/kid plugins/greeter mu-plugins/own-mu.php -printf "%p %u:%g %m\\n" | sort',
      ].join('; '),
    );

    // Assess: WordPress runs the theme, its parent, the plugin and the must-use plugin.
    expect(home.status).toBe(200);
    expect(home.headers.get('x-own-theme')).toBe('kid');
    expect(home.headers.get('x-own-plugin')).toBe('greeter');
    expect(home.headers.get('x-own-mu')).toBe('yes');
    const [settings = '', ...rest] = inside.split('\n}\n');
    expect(JSON.parse(`${settings}}`)).toEqual({
      stylesheet: 'kid',
      template: 'twentytwentyfive',
      plugins: ['greeter/greeter.php'],
    });
    // Owned by root, read-only to the web server, executable bits dropped, no .git.
    expect(rest.join('').trim().split('\n')).toEqual([
      'max_input_vars = 2345',
      'mu-plugins/own-mu.php root:root 644',
      'plugins/greeter root:root 755',
      'plugins/greeter/a-helpers.php root:root 644',
      'plugins/greeter/greeter.php root:root 644',
      'themes/kid root:root 755',
      'themes/kid/functions.php root:root 644',
      'themes/kid/style.css root:root 644',
      'themes/kid/tools root:root 755',
      'themes/kid/tools/build.sh root:root 644',
    ]);
  });

  it('refuses a site whose settings name code it does not have, or whose PHP does not parse', async () => {
    // Prepare: the own site with a theme nobody has, a plugin without a main file and one
    // that is not there, or a plugin file with a syntax error.
    const variant = async (
      name: string,
      siteYml: string,
      extraFiles: Record<string, string> = {},
    ) => {
      const dir = join(workDir, name);
      await run('cp', ['-a', ownSiteDir, dir]);
      await writeFile(join(dir, 'site.yml'), siteYml);
      for (const [path, content] of Object.entries(extraFiles))
        await writeFile(join(dir, path), content);
      return buildImage({
        sourceRevision: `bad-${name}`,
        registry: REGISTRY,
        repository: REPOSITORY,
        siteDir: dir,
      }).then(
        () => undefined,
        (error: unknown) => error,
      );
    };

    // Act
    const [noTheme, badPlugins, badPhp] = await Promise.all([
      variant('no-theme', 'theme: nosuch\n'),
      variant('bad-plugins', 'plugins: [greeter, dormant, missing]\n'),
      variant('bad-php', 'theme: kid\nplugins: [greeter]\n', {
        'plugins/greeter/b-broken.php': '<?php\nfunction greeter_broken( {\n',
      }),
    ]);

    // Assess
    expect(noTheme).toMatchObject({ name: 'ImageBuildError', phase: 'app' });
    expect((noTheme as Error).message).toContain(
      'site/site.yml: theme nosuch is neither in site/themes/ nor shipped with the image',
    );
    expect(badPlugins).toMatchObject({ name: 'ImageBuildError', phase: 'app' });
    expect((badPlugins as Error).message).toContain(
      "site/plugins/dormant has no PHP file with a 'Plugin Name:' header; site/site.yml: plugin missing is not in site/plugins/",
    );
    expect(badPhp).toMatchObject({ name: 'ImageBuildError', phase: 'app' });
    expect((badPhp as Error).message).toMatch(
      /site PHP does not parse: Parse error: .* in site\/plugins\/greeter\/b-broken\.php on line 2/,
    );
    expect((badPhp as Error).message).not.toContain('/var/lib/wordpress');
  });

  it('builds a bad release on request: the fault image answers /healthz with 500', async () => {
    // Prepare
    const env = dbEnv();

    // Act
    const site = await startSite('fault', faulty.imageUri, env);
    const health = await get(site.port, '/healthz');

    // Assess
    expect(health.status).toBe(500);
  });

  it('builds a broken site on request: the home page answers 500 while /healthz stays 200', async () => {
    // Prepare
    requireSite();

    // Act
    const port = await freePort();
    const site = await startSite('broken-home', brokenHome.imageUri, siteEnv(port), { port });
    const home = await get(site.port, '/');
    const post = await get(site.port, '/?p=1');
    const health = await get(site.port, '/healthz');
    const ready = await get(site.port, '/readyz');
    const good = await shellInImage(
      release.imageUri,
      'ls /var/lib/wordpress/wp-content/mu-plugins; grep -c fault /usr/local/bin/stepdeploy-entrypoint || true',
    );

    // Assess: the front end is broken the way broken site code breaks it; the probes that
    // do not run the site's code see nothing wrong.
    expect(home.status).toBe(500);
    expect(post.status).toBe(500);
    expect(home.body).not.toMatch(LEAK_RE);
    expect(health).toMatchObject({ status: 200, body: 'ok\n' });
    expect(ready).toMatchObject({ status: 200, body: 'ready\n' });
    expect(await logs(site.container)).toContain(
      'stepdeploy fault: front end answers 500 (image built with wordpress_fault_home_status=500)',
    );
    // The good release carries no trace of either fault switch: its must-use plugins are the
    // hardening one and the one applying site/site.yml.
    expect(good.split('\n')).toEqual(['stepdeploy-hardening.php', 'stepdeploy-site.php', '0']);
  });

  it('builds a crash on start on request: the container exits at once with the chosen status', async () => {
    // Prepare
    const container = `${PREFIX}-crash`;
    started.push(container);

    // Act
    const startedAt = Date.now();
    await docker(
      'run',
      '-d',
      '--name',
      container,
      '--network',
      'host',
      '--read-only',
      ...SCRATCH_VOLUMES,
      '-e',
      'BIND_ADDRESS=127.0.0.1',
      '-e',
      `PORT=${await freePort()}`,
      crashOnStart.imageUri,
    );
    const status = Number(await docker('wait', container));
    const elapsed = Date.now() - startedAt;

    // Assess
    expect(status).toBe(3);
    expect(elapsed).toBeLessThan(30_000);
    const log = await logs(container);
    expect(log).toContain(
      'stepdeploy-entrypoint: fault: crashing on start with exit status 3 (image built with wordpress_fault_start_exit=3)',
    );
    expect(log).not.toContain('listening on');
  });

  it('rides out a database restart: a request in flight answers 200, /readyz stays quick', async () => {
    // Prepare
    const { container, port } = requireSite();
    if (!database) throw new Error('no database (see the earlier test)');
    const db = database.container;
    expect((await get(port, '/')).status).toBe(200);

    // Act: the database goes away; a request arrives; the database is back 3 s later.
    await docker('stop', db);
    const readyStarted = Date.now();
    const ready = await get(port, '/readyz');
    const readyMs = Date.now() - readyStarted;
    const requestStarted = Date.now();
    const inFlight = get(port, '/');
    await new Promise((r) => setTimeout(r, 3_000));
    await docker('start', db);
    const home = await inFlight;
    const homeMs = Date.now() - requestStarted;
    await until('the database to be back', async () =>
      (await get(port, '/readyz')).status === 200 ? true : undefined,
    );

    // Assess: slower, not failed; readiness still says at once that the database is gone.
    expect(ready).toMatchObject({ status: 503, body: 'db-unreachable\n' });
    expect(readyMs).toBeLessThan((ROLE_DEFAULTS.wordpress_readyz_connect_timeout + 1) * 1000);
    expect(home.status).toBe(200);
    expect(home.body).toContain(SITE_TITLE);
    expect(homeMs).toBeGreaterThanOrEqual(3_000);
    expect(homeMs).toBeLessThan((ROLE_DEFAULTS.wordpress_db_connect_retry_seconds + 2) * 1000);
    const log = await logs(container);
    expect(log).toMatch(/stepdeploy db\.php: cannot connect to the database \(error 20\d\d/);
    expect(log).toMatch(/stepdeploy db\.php: connected to the database after \d+ attempts/);
  });

  it('refuses bad input before any side effect, and names the phase of a failed build', async () => {
    // Prepare
    const request = { sourceRevision: 'bad', registry: REGISTRY, repository: REPOSITORY };

    // Act
    const badInput = buildImage({ ...request, repository: 'Not/A Repo' });
    const noBase = buildImage({ ...request, baseImage: 'stepdeploy-test/no-such-base:none' });
    // An Ansible task that fails for real: PHP settings for a PHP that is not installed.
    const failingApp = buildImage({ ...request, extraVars: { wordpress_php_version: '0.0' } });

    // Assess
    await expect(badInput).rejects.toMatchObject({ name: 'ImageBuildError', phase: 'input' });
    await expect(noBase).rejects.toMatchObject({ name: 'ImageBuildError', phase: 'base-image' });
    const error = await failingApp.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toMatchObject({ name: 'ImageBuildError', phase: 'app' });
    expect((error as Error).message).toMatch(/packer build exited with status 1/);
    // The stage installs into directories the base stage has; a wrong path is named, not made.
    expect((error as Error).message).toContain(
      'stepdeploy_files: directory /etc/php/0.0/apache2/conf.d does not exist in the target',
    );
    expect((error as { logTail: string[] }).logTail.join('\n')).toMatch(
      /FAILED|Error executing Ansible/,
    );
  });
});
