import { randomBytes } from 'node:crypto';
import { mkdtemp, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '#commons/wait.ts';
import { ensureSecretFiles, initialTaskDefinition } from '#local/bootstrap.ts';
import { DEFAULT_TIME_FACTOR } from '#local/config.ts';
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
import { readSecret } from '#local/secrets.ts';
import { down, type StackHandle, up } from '#local/stack.ts';
import { TaskDefinitionStore } from '#local/task-definitions.ts';
import {
  listTasks,
  removeTask,
  runInputFromTaskDefinition,
  runTask,
  stopTask,
  toEcsTask,
} from '#local/tasks.ts';

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

const until = <T>(probe: () => Promise<T | undefined>, what: string, ms = 60_000): Promise<T> =>
  pollUntil(probe, { intervalMs: 200, timeoutMs: ms, description: what });

/**
 * A target for HAProxy: answers `name` on every path, and `healthz` with the given status (a
 * function: read at each check, so a test can turn a target sick and back).
 */
function target(
  name: string,
  healthStatus: number | (() => number),
): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      if (req.url === '/healthz') {
        res.writeHead(typeof healthStatus === 'number' ? healthStatus : healthStatus()).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end(name);
    });
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, port: (server.address() as AddressInfo).port }),
    );
  });
}

// Two small images with an entrypoint that, like the WordPress image's, needs a writable /tmp
// (uid 33); one declares VOLUME /tmp. `curl` is a stand-in that passes while /tmp/apache2 exists.
const PROBE_DOCKERFILE = `FROM stepdeploy/base:trixie
RUN printf '%s\\n' '#!/bin/sh' \\
      'if ! mkdir -p /tmp/apache2 2>/dev/null; then' \\
      '  echo "stepdeploy-entrypoint: cannot create /tmp/apache2: /tmp is not writable by uid $(id -u) (/tmp is $(stat -c "%U:%G mode %a" /tmp))" >&2' \\
      '  exit 73' 'fi' 'exec "$@"' > /usr/local/bin/entrypoint \\
 && printf '%s\\n' '#!/bin/sh' 'test -d /tmp/apache2' > /usr/local/bin/curl \\
 && chmod 755 /usr/local/bin/entrypoint /usr/local/bin/curl
USER 33:33
ENTRYPOINT ["/usr/local/bin/entrypoint"]
CMD ["sleep", "300"]
`;
const probeImages = {
  withoutVolume: `stepdeploy/${service}-probe:no-volume`,
  withVolume: `stepdeploy/${service}-probe:volume-tmp`,
};

async function buildProbeImages(): Promise<void> {
  const context = await mkdtemp(join(tmpdir(), 'sdt-probe-'));
  await docker(
    [
      'build',
      '-q',
      '--label',
      'stepdeploy.managed=true',
      '-t',
      probeImages.withoutVolume,
      '-f-',
      context,
    ],
    {
      input: PROBE_DOCKERFILE,
    },
  );
  await docker(
    [
      'build',
      '-q',
      '--label',
      'stepdeploy.managed=true',
      '-t',
      probeImages.withVolume,
      '-f-',
      context,
    ],
    {
      input: `FROM ${probeImages.withoutVolume}\nVOLUME ["/tmp"]\n`,
    },
  );
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
    await buildProbeImages();
  });

  afterAll(async () => {
    for (const s of servers) s.close();
    await down({ stateDir, service });
    for (const image of Object.values(probeImages))
      await docker(['image', 'rm', '-f', image]).catch(() => '');
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

  it('fails open like an ALB: with every target unhealthy it serves from all of them, never 503', async () => {
    // Prepare: `next` leaves; `flaky` (healthy until told otherwise) and `sick` (500) stay.
    const lb = stack.loadBalancer;
    let flakyHealth = 200;
    const flaky = await target('flaky', () => flakyHealth);
    const sick = await target('sick', 500);
    servers.push(flaky.server, sick.server);
    await lb.addTarget({ id: 'flaky', port: flaky.port });
    await lb.addTarget({ id: 'sick', port: sick.port });
    const statesAre = (want: Record<number, string>) =>
      until(
        async () => {
          const d = await lb.describeTargetHealth();
          const got = Object.fromEntries(d.map((t) => [t.Target?.Port, t.TargetHealth?.State]));
          return JSON.stringify(got) === JSON.stringify(want) ? d : undefined;
        },
        `target states ${JSON.stringify(want)}`,
      );
    await lb.drainTarget('next');
    await lb.removeTarget('next');
    await statesAre({ [flaky.port]: 'healthy', [sick.port]: 'unhealthy' });
    const answers = async (n: number) => {
      const seen: string[] = [];
      for (let i = 0; i < n; i++) {
        const res = await fetch(stack.siteUrl);
        seen.push(`${res.status} ${(await res.text()).slice(0, 60)}`);
      }
      return [...new Set(seen)].sort();
    };
    const oneHealthy = await answers(10);

    // Act: the last healthy target fails its checks too, then recovers.
    flakyHealth = 500;
    const allUnhealthy = await statesAre({ [flaky.port]: 'unhealthy', [sick.port]: 'unhealthy' });
    const failedOpen = await answers(10);
    flakyHealth = 200;
    await statesAre({ [flaky.port]: 'healthy', [sick.port]: 'unhealthy' });
    const recovered = await answers(10);
    await Promise.all([lb.removeTarget('flaky'), lb.removeTarget('sick')]);

    // Assess: target health still says unhealthy (the gate is not fooled); visitors are served.
    expect(oneHealthy).toEqual(['200 flaky']);
    expect(allUnhealthy.map((t) => t.TargetHealth?.State)).toEqual(['unhealthy', 'unhealthy']);
    expect(failedOpen).toEqual(['200 flaky', '200 sick']);
    expect(recovered).toEqual(['200 flaky']);
    expect(await lb.targets()).toEqual([]);
  });

  /** Revision <n> of the synthesized task definition with the image swapped, stored like `up` does. */
  async function registered(image: string) {
    const registration = initialTaskDefinition(stack, image);
    await ensureSecretFiles(stack, registration);
    return new TaskDefinitionStore(stateDir).register(registration);
  }

  const taskHealth = async (name: string, want: string) =>
    until(async () => {
      const [t] = (await listTasks({ stateDir, service })).filter((x) => x.name === name);
      return t?.healthStatus === want ? t : undefined;
    }, `${name} ${want}`);

  it('runs the synthesized task definition with Fargate semantics and reports tasks like ECS', async () => {
    // Prepare: an image that declares VOLUME /tmp, as the WordPress image does
    const td = await registered(probeImages.withVolume);

    // Act
    const task = await runTask(
      runInputFromTaskDefinition(td, { stateDir, service, releaseId: 'rel-1', portBase: 28000 }),
    );
    const healthy = await taskHealth(task.name, 'HEALTHY');
    const c = JSON.parse(await docker(['container', 'inspect', task.name]))[0] as {
      Config: {
        User: string;
        Env: string[];
        StopTimeout: number;
        Healthcheck: Record<string, unknown>;
      };
      HostConfig: { NanoCpus: number; Memory: number; MemorySwap: number; ReadonlyRootfs: boolean };
    };
    const sh = (script: string) =>
      docker(['exec', task.name, 'sh', '-c', script]).catch((e) => `${e}`);
    const tmp = await sh('touch /tmp/probe && echo writable');
    const run = await sh('touch /run/probe 2>&1 || true; stat -c "%U:%G %a" /run');
    const uploads = await sh('stat -c "%u:%g %a" /var/lib/wordpress/wp-content/uploads');
    const password = await sh('cat "$WORDPRESS_DB_PASSWORD_FILE"');
    const user = await sh(
      'cat "$WORDPRESS_DB_USER_FILE"; echo; echo "$PORT $BIND_ADDRESS $WORDPRESS_DB_HOST"',
    );
    await stopTask(stateDir, task, 'Scaling activity initiated by (deployment rel-2)', 1);
    const [stopped] = await listTasks({ stateDir, service, revision: td.revision });

    // Assess: the task definition's limits, user, root, volumes, health check, stop timeout
    expect(c.HostConfig).toMatchObject({
      NanoCpus: 500_000_000,
      Memory: 1024 * 1024 * 1024,
      MemorySwap: 1024 * 1024 * 1024,
      ReadonlyRootfs: true,
    });
    expect(c.Config.User).toBe('33:33');
    expect(c.Config.StopTimeout).toBe(30);
    expect(c.Config.Healthcheck).toMatchObject({
      Test: ['CMD-SHELL', `curl -fsS http://127.0.0.1:${task.port}/healthz || exit 1`],
      // The template's 10 s / 5 s / 30 s, scaled by the time factor (nanoseconds).
      Interval: 10e9 * DEFAULT_TIME_FACTOR,
      Timeout: 5e9 * DEFAULT_TIME_FACTOR,
      Retries: 3,
      StartPeriod: 30e9 * DEFAULT_TIME_FACTOR,
    });
    expect(tmp.trim()).toBe('writable');
    // Fargate's empty bind mount for a path the image does not declare: root 0755.
    expect(run).toMatch(/Permission denied[\s\S]*root:root 755/);
    expect(uploads.trim()).toBe('33:33 755');
    expect(password).toBe(await readSecret(stack.database.passwordFile));
    expect(user.split('\n')).toEqual([
      stack.database.user,
      `${task.port} 127.0.0.1 127.0.0.1:${stack.database.port}`,
      '',
    ]);
    expect(c.Config.Env.join('\n')).not.toContain(password);
    expect(toEcsTask(healthy)).toMatchObject({
      healthStatus: 'HEALTHY',
      cpu: '512',
      memory: '1024',
      containers: [{ name: 'wordpress', healthStatus: 'HEALTHY' }],
    });
    expect(toEcsTask(stopped as never)).toMatchObject({
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      stopCode: 'UserInitiated',
      stoppedReason: 'Scaling activity initiated by (deployment rel-2)',
      taskDefinitionArn: td.taskDefinitionArn,
    });
    await removeTask(stateDir, task);
  });

  it('an image that cannot write its /tmp fails locally exactly as on Fargate', async () => {
    // Prepare: the same task definition, an image that does not declare VOLUME /tmp
    const td = await registered(probeImages.withoutVolume);

    // Act
    const task = await runTask(
      runInputFromTaskDefinition(td, { stateDir, service, releaseId: 'rel-3', portBase: 28000 }),
    );
    const [crashed] = await until(async () => {
      const t = await listTasks({ stateDir, service, revision: td.revision });
      return t[0]?.lastStatus === 'STOPPED' ? t : undefined;
    }, 'task without a writable /tmp stopped');

    // Assess
    expect(toEcsTask(crashed as never)).toMatchObject({
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited (exit code 73)',
      containers: [
        {
          exitCode: 73,
          reason: expect.stringMatching(
            /^stepdeploy-entrypoint: cannot create \/tmp\/apache2: \/tmp is not writable by uid 33 \(\/tmp is root:root mode 755\)$/,
          ),
        },
      ],
    });
    await removeTask(stateDir, task);
  });

  it('reports a failing container health check as UNHEALTHY', async () => {
    // Prepare: the health check (a stand-in for curl) fails once /tmp/apache2 is gone
    const td = await registered(probeImages.withVolume);

    // Act
    const task = await runTask(
      runInputFromTaskDefinition(td, {
        stateDir,
        service,
        releaseId: 'rel-4',
        portBase: 28000,
        command: ['sh', '-c', 'rmdir /tmp/apache2 && exec sleep 300'],
      }),
    );
    const unhealthy = await taskHealth(task.name, 'UNHEALTHY');
    await removeTask(stateDir, task);

    // Assess
    expect(toEcsTask(unhealthy)).toMatchObject({
      lastStatus: 'RUNNING',
      healthStatus: 'UNHEALTHY',
      containers: [{ healthStatus: 'UNHEALTHY' }],
    });
  });

  it('gives tasks started at the same time distinct ports', async () => {
    // Prepare
    const td = await registered(probeImages.withVolume);
    const input = runInputFromTaskDefinition(td, {
      stateDir,
      service,
      releaseId: 'rel-5',
      portBase: 28000,
    });

    // Act
    const tasks = await Promise.all(Array.from({ length: 5 }, () => runTask(input)));
    const running = await until(async () => {
      const listed = (await listTasks({ stateDir, service, revision: td.revision })).filter((t) =>
        tasks.some((x) => x.name === t.name),
      );
      return listed.every((t) => t.lastStatus === 'RUNNING') ? listed : undefined;
    }, 'five tasks running');
    await Promise.all(tasks.map((t) => removeTask(stateDir, t)));

    // Assess
    expect(new Set(tasks.map((t) => t.port)).size).toBe(5);
    expect(running).toHaveLength(5);
  });

  it('refuses a task definition Fargate would refuse, naming the field', async () => {
    // Prepare
    const registration = initialTaskDefinition(stack, probeImages.withVolume);
    const privileged = {
      ...registration,
      containerDefinitions: registration.containerDefinitions?.map((c) => ({
        ...c,
        privileged: true,
      })),
    };

    // Act
    const result = new TaskDefinitionStore(stateDir).register(privileged);

    // Assess
    await expect(result).rejects.toThrow(
      /containerDefinitions\[0\]\.privileged: Fargate refuses it/,
    );
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
