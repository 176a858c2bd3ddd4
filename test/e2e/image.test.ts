import { execFile } from 'node:child_process';
import { chown, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
const SALTS = [
  'AUTH_KEY',
  'SECURE_AUTH_KEY',
  'LOGGED_IN_KEY',
  'NONCE_KEY',
  'AUTH_SALT',
  'SECURE_AUTH_SALT',
  'LOGGED_IN_SALT',
  'NONCE_SALT',
];
/** Signs of PHP internals leaking to a visitor. */
const LEAK_RE = /Fatal error|Stack trace|#0 \/|\.php on line|Uncaught|mysqli_sql_exception/i;

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

async function get(port: number, path: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { redirect: 'manual', ...init });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

const started: string[] = [];
const volumes: string[] = [];
let workDir: string;
let secretsDir: string;
let release: ImageBuildResult;
let faulty: ImageBuildResult;
let database: DatabaseHandle | undefined;
let databasePort: number;
let siteMain: { container: string; port: number } | undefined;

/** The installed site of the ordered flow above; later tests build on it. */
function requireSite(): { container: string; port: number } {
  if (!siteMain) throw new Error('the installed site did not come up (see the earlier test)');
  return siteMain;
}

/** Runs the image the way local mode does: host network, loopback, read-only root. */
async function startSite(
  name: string,
  imageUri: string,
  env: Record<string, string>,
  opts: { port?: number; withUploads?: boolean } = {},
): Promise<{ container: string; port: number }> {
  const port = opts.port ?? (await freePort());
  const container = `${PREFIX}-${name}`;
  const args = ['run', '-d', '--name', container, '--label', 'stepdeploy-test=image'];
  args.push('--network', 'host', '--read-only', '--tmpfs', '/tmp', '--tmpfs', '/run');
  args.push('-v', `${secretsDir}:/run/secrets:ro`);
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
  for (const salt of SALTS) env[`WORDPRESS_${salt}_FILE`] = `/run/secrets/${salt.toLowerCase()}`;
  return env;
}

/** Writes a secret file the image user (uid 33, www-data) can read and nobody else. */
async function writeImageSecret(name: string, value: string): Promise<void> {
  const path = join(secretsDir, name);
  await writeFile(path, value, { mode: 0o600 });
  await chown(path, 33, 33);
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'stepdeploy-image-test-'));
  secretsDir = join(workDir, 'secrets');
  await mkdir(secretsDir, { mode: 0o755 });
  await mkdir(OUTPUT_DIR, { recursive: true });
  await run(join(ROOT, 'scripts/base-image.sh'), []);
  await ensureRegistry({ service: REGISTRY_SERVICE, port: REGISTRY_PORT });

  const revision = `e2e${Date.now().toString(36)}`;
  release = await buildImage({
    sourceRevision: revision,
    registry: REGISTRY,
    repository: REPOSITORY,
  });
  faulty = await buildImage({
    sourceRevision: revision,
    registry: REGISTRY,
    repository: REPOSITORY,
    tag: `${revision}-fault`,
    extraVars: { wordpress_fault_healthz_status: '500' },
  });

  databasePort = await freePort();
  // The database password exists before the database does, as on AWS where the secret
  // precedes the instance; startDatabase adopts the file it finds.
  const password = generatePassword();
  await writeSecret(join(workDir, 'state', 'secrets', `${DB_NAME}-password`), password);
  await writeImageSecret('db-password', password);
  for (const salt of SALTS)
    await writeImageSecret(salt.toLowerCase(), `${salt}-${process.pid}-${Math.random()}`);
  await writeImageSecret('wrong-password', 'not-the-password');
});

afterAll(async () => {
  for (const container of started) await docker('rm', '-f', container).catch(() => '');
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

  it('builds a bad release on request: the fault image answers /healthz with 500', async () => {
    // Prepare
    const env = dbEnv();

    // Act
    const site = await startSite('fault', faulty.imageUri, env);
    const health = await get(site.port, '/healthz');

    // Assess
    expect(health.status).toBe(500);
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
    expect((error as { logTail: string[] }).logTail.join('\n')).toMatch(
      /FAILED|Error executing Ansible/,
    );
  });
});
