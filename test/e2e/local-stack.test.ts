import { randomBytes } from 'node:crypto';
import { mkdtemp, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  removeDatabase,
  restoreSnapshot,
  snapshotDatabase,
  tableManifest,
} from '#local/database.ts';
import {
  containersByLabel,
  docker,
  inspectContainer,
  networksByLabel,
  volumesByLabel,
} from '#local/docker.ts';
import { readSecret, writeSecret } from '#local/secrets.ts';
import { down, type StackHandle, up } from '#local/stack.ts';
import { listTasks, runTask, stopTask, toEcsTask } from '#local/tasks.ts';

// Real Docker, MariaDB, HAProxy and registry, on loopback only. Each run uses its own service
// name, state dir and ports so it never touches another stack on the same engine.

const service = `sdt-${randomBytes(3).toString('hex')}`;
const labels = { 'stepdeploy.managed': 'true', 'stepdeploy.service': service } as const;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createTcpServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function until<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A target for HAProxy: answers `name` on every path, and `healthz` with the given status. */
function target(name: string, healthStatus: number): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      if (req.url === '/healthz') {
        res.writeHead(healthStatus).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end(name);
    });
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, port: (server.address() as AddressInfo).port }),
    );
  });
}

describe('local stack (real components)', () => {
  let stateDir: string;
  let ports: { sitePort: number; registryPort: number; databasePort: number };
  let stack: StackHandle;
  const servers: Server[] = [];

  beforeAll(async () => {
    // Short path: the HAProxy socket lives in the state dir and unix socket paths are short.
    stateDir = await mkdtemp(join(tmpdir(), 'sdt-'));
    ports = {
      sitePort: await freePort(),
      registryPort: await freePort(),
      databasePort: await freePort(),
    };
    stack = await up({ stateDir, service, ...ports });
  });

  afterAll(async () => {
    for (const s of servers) s.close();
    await down({ stateDir, service });
  });

  it('is idempotent: a second up finds everything running', async () => {
    // Act
    const again = await up({ stateDir, service, ...ports });

    // Assess
    expect(again.outcome).toBe('already-up');
    expect(again.database.container).toBe(stack.database.container);
    expect(again.siteUrl).toBe(`http://127.0.0.1:${ports.sitePort}`);
  });

  it('MariaDB admits the app user with the password from a 600 file, with least privilege', async () => {
    // Prepare
    const db = stack.database;
    const mode = (await stat(db.passwordFile)).mode & 0o777;
    const conn = await mysql.createConnection({
      host: '127.0.0.1',
      port: db.port,
      user: db.user,
      password: await readSecret(db.passwordFile),
      database: db.database,
    });

    // Act
    await conn.query('CREATE TABLE IF NOT EXISTS probe (id INT PRIMARY KEY)');
    const refused = await conn.query('CREATE DATABASE other').then(
      () => undefined,
      (err: Error) => err.message,
    );
    await conn.end();

    // Assess
    expect(mode).toBe(0o600);
    expect((await stat(db.rootPasswordFile)).mode & 0o777).toBe(0o600);
    expect(refused).toMatch(/access denied/i);
  });

  it('snapshots consistently and restores old data into a scratch instance that is then removed', async () => {
    // Prepare
    const db = stack.database;
    const conn = await mysql.createConnection({
      host: '127.0.0.1',
      port: db.port,
      user: db.user,
      password: await readSecret(db.passwordFile),
      database: db.database,
    });
    await conn.query('CREATE TABLE posts (id INT PRIMARY KEY, title VARCHAR(100))');
    await conn.query("INSERT INTO posts VALUES (1, 'before'), (2, 'kept')");

    await conn.query('CREATE TABLE hits (id INT AUTO_INCREMENT PRIMARY KEY, at DATETIME(6))');
    // A writer keeps inserting while the snapshot runs: the manifest must still match the dump.
    const writer = await mysql.createConnection({
      host: '127.0.0.1',
      port: db.port,
      user: db.user,
      password: await readSecret(db.passwordFile),
      database: db.database,
    });
    let writing = true;
    const writes = (async () => {
      while (writing) await writer.query('INSERT INTO hits (at) VALUES (NOW(6))');
    })();
    await until(async () => {
      const [r] = await conn.query('SELECT COUNT(*) AS n FROM hits');
      return ((r as { n: number }[])[0]?.n ?? 0) > 20 ? true : undefined;
    }, 'writes before the snapshot');

    // Act
    const snapshot = await snapshotDatabase(db, 'snap-e2e-1');
    writing = false;
    await writes;
    await writer.end();
    await conn.query("UPDATE posts SET title = 'after' WHERE id = 1");
    await conn.query('DELETE FROM posts WHERE id = 2');
    await conn.end();
    const scratch = await restoreSnapshot('snap-e2e-1', {
      name: `${service}-scratch`,
      port: await freePort(),
      stateDir,
      service,
    });
    const sc = await mysql.createConnection({
      host: '127.0.0.1',
      port: scratch.port,
      user: scratch.user,
      password: await readSecret(scratch.passwordFile),
      database: scratch.database,
    });
    const [rows] = await sc.query('SELECT id, title FROM posts ORDER BY id');
    await sc.end();
    const restoredManifest = await tableManifest(scratch);
    const liveManifest = await tableManifest(db);
    await removeDatabase(scratch);

    // Assess
    expect(rows).toEqual([
      { id: 1, title: 'before' },
      { id: 2, title: 'kept' },
    ]);
    expect(snapshot.tables.find((t) => t.table === 'posts')?.rows).toBe(2);
    expect(snapshot.tables.find((t) => t.table === 'hits')?.rows).toBeGreaterThan(0);
    expect(restoredManifest).toEqual(snapshot.tables);
    expect(liveManifest).not.toEqual(snapshot.tables);
    expect(snapshot.sizeBytes).toBeGreaterThan(0);
    expect(await inspectContainer(scratch.container)).toBeUndefined();
    expect(await volumesByLabel({ ...labels, 'stepdeploy.role': 'scratch-database' })).toEqual([]);
  });

  it('the registry accepts a push and serves the image by digest', async () => {
    // Prepare
    const ref = `${stack.registry.url}/${service}-probe:1`;
    await docker(['tag', 'stepdeploy/base:trixie', ref]);

    // Act
    await docker(['push', ref]);
    const digests = JSON.parse(
      await docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', ref]),
    ) as string[];
    const byDigest = digests.find((d) => d.startsWith(`${stack.registry.url}/`));
    await docker(['rmi', ref]);
    if (byDigest) await docker(['rmi', byDigest]).catch(() => '');
    const pulled = byDigest ? await docker(['pull', byDigest]) : '';
    if (byDigest) await docker(['rmi', byDigest]);

    // Assess
    expect(byDigest).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(pulled).toContain('sha256:');
  });

  it('HAProxy reports target health like ELBv2 and sends traffic only to healthy targets', async () => {
    // Prepare
    const lb = stack.loadBalancer;
    const good = await target('good', 200);
    const bad = await target('bad', 500);
    servers.push(good.server, bad.server);

    // Act
    await lb.addTarget({ id: 'good', port: good.port });
    await lb.addTarget({ id: 'bad', port: bad.port });
    const health = await until(async () => {
      const d = await lb.describeTargetHealth();
      const states = d.map((t) => t.TargetHealth?.State);
      return states.includes('healthy') && states.includes('unhealthy') ? d : undefined;
    }, 'one healthy and one unhealthy target');
    const bodies = new Set<string>();
    for (let i = 0; i < 20; i++) bodies.add(await (await fetch(stack.siteUrl)).text());

    // Assess
    const checks = await lb.checkEvents();
    expect(health.find((t) => t.Target?.Port === good.port)).toEqual({
      Target: { Id: '127.0.0.1', Port: good.port },
      HealthCheckPort: String(good.port),
      TargetHealth: { State: 'healthy' },
    });
    // Unhealthy only after `fall` wrong answers in a row, read back from HAProxy's check log.
    expect(checks.find((e) => e.server === 'bad' && e.verdict)?.reason).toBe(
      'Layer7 wrong status, code: 500',
    );
    expect(health.find((t) => t.Target?.Port === bad.port)).toMatchObject({
      Target: { Id: '127.0.0.1', Port: bad.port },
      TargetHealth: {
        State: 'unhealthy',
        Reason: 'Target.ResponseCodeMismatch',
        Description: 'Health checks failed with these codes: [500]',
      },
    });
    expect([...bodies]).toEqual(['good']);
  });

  it('drains and removes a target under constant load with zero failed requests', async () => {
    // Prepare
    const lb = stack.loadBalancer;
    const next = await target('next', 200);
    servers.push(next.server);
    await lb.addTarget({ id: 'next', port: next.port });
    // A new target earns its traffic: while `initial` it must not answer a single request.
    const stateOf = async () =>
      (await lb.describeTargetHealth()).find((t) => t.Target?.Port === next.port)?.TargetHealth
        ?.State;
    const before = await stateOf();
    const early = new Set<string>();
    for (let i = 0; i < 10; i++) early.add(await (await fetch(stack.siteUrl)).text());
    const afterBurst = await stateOf();
    await until(async () => {
      const d = await lb.describeTargetHealth();
      return d.find((t) => t.Target?.Port === next.port)?.TargetHealth?.State === 'healthy'
        ? d
        : undefined;
    }, 'next healthy');
    let running = true;
    let ok = 0;
    const failures: string[] = [];
    const seen = new Set<string>();
    const loop = async () => {
      while (running) {
        try {
          const res = await fetch(stack.siteUrl);
          const body = await res.text();
          if (res.status === 200) {
            ok++;
            seen.add(body);
          } else failures.push(`${res.status} ${body.slice(0, 80)}`);
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const load = Promise.all([loop(), loop(), loop(), loop()]);

    // Act
    await lb.drainTarget('good');
    // Side by side, as the scheduler deregisters old tasks: neither may write the other back.
    await Promise.all([lb.removeTarget('good'), lb.removeTarget('bad')]);
    // The old server stops answering entirely, as a stopped task would.
    servers[0]?.closeAllConnections();
    servers[0]?.close();
    const after = ok;
    await until(async () => (ok > after + 50 ? true : undefined), 'requests after removal');
    running = false;
    await load;
    const remaining = (await lb.describeTargetHealth()).map((t) => t.Target?.Port);
    const registered = (await lb.targets()).map((t) => t.id);

    // Assess
    expect([before, afterBurst]).toEqual(['initial', 'initial']);
    expect([...early]).toEqual(['good']);
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(50);
    expect(seen).toContain('next');
    expect(remaining).toEqual([next.port]);
    expect(registered).toEqual(['next']);
  });

  it('runs tasks as labelled containers and reports them like ECS tasks', async () => {
    // Prepare
    const secretFile = join(stateDir, 'secrets', 'probe-secret');
    await writeSecret(secretFile, 'not-a-real-secret');

    // Act
    const sleeper = await runTask({
      stateDir,
      service,
      revision: 3,
      releaseId: 'rel-1',
      image: 'stepdeploy/base:trixie',
      secretFiles: { PROBE_SECRET: secretFile },
      portBase: 28000,
      command: ['sleep', '300'],
    });
    const crasher = await runTask({
      stateDir,
      service,
      revision: 4,
      releaseId: 'rel-2',
      image: 'stepdeploy/base:trixie',
      portBase: 28000,
      command: ['sh', '-c', 'exit 3'],
    });
    const listed = await listTasks({ stateDir, service, revision: 3 });
    const secretSeen = await docker(['exec', sleeper.name, 'sh', '-c', 'cat "$PROBE_SECRET_FILE"']);
    const env = (await inspectContainer(sleeper.name))?.Config.Env ?? [];
    await stopTask(stateDir, sleeper, 'Scaling activity initiated by (deployment rel-2)', 1);
    const [stopped] = await listTasks({ stateDir, service, revision: 3 });
    const [crashed] = await until(async () => {
      const t = await listTasks({ stateDir, service, revision: 4 });
      return t[0]?.lastStatus === 'STOPPED' ? t : undefined;
    }, 'crasher stopped');

    // Assess
    expect(listed.map((t) => [t.name, t.lastStatus, t.revision, t.releaseId])).toEqual([
      [sleeper.name, 'RUNNING', 3, 'rel-1'],
    ]);
    expect(sleeper.port).not.toBe(crasher.port);
    expect(secretSeen).toBe('not-a-real-secret');
    expect(env.join('\n')).not.toContain('not-a-real-secret');
    expect(toEcsTask(stopped as never)).toMatchObject({
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      stopCode: 'UserInitiated',
      stoppedReason: 'Scaling activity initiated by (deployment rel-2)',
      taskDefinitionArn: `arn:local:ecs:task-definition/${service}:3`,
      containers: [{ name: 'wordpress', exitCode: 137 }],
    });
    expect(toEcsTask(crashed as never)).toMatchObject({
      lastStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited (exit code 3)',
      containers: [{ exitCode: 3 }],
    });
  });

  it('down leaves no container, volume or network of ours', async () => {
    // Act
    await down({ stateDir, service });

    // Assess
    expect(await containersByLabel(labels)).toEqual([]);
    expect(await volumesByLabel(labels)).toEqual([]);
    expect(await networksByLabel(labels)).toEqual([]);
    await expect(stat(stateDir)).rejects.toThrow(/ENOENT/);
  });
});
