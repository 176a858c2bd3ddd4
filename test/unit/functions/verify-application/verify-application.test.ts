import { createServer, type Server } from 'node:http';
import { DescribeTasksCommand, ECSClient } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApplicationVerificationError } from '#commons/verify-errors.ts';
import {
  type ApplicationProbe,
  type HttpAnswer,
  httpGet,
  judgeApplication,
  probeApplication,
  sightTask,
  verifyApplication,
} from '#functions/verify-application/verify-application.ts';
import {
  CLUSTER,
  exited,
  failedToStart,
  missing,
  pending,
  provisioning,
  running as runningTask,
  TASK,
} from './describe-tasks.ts';

const running = { lastStatus: 'RUNNING', containers: [{ name: 'wordpress' }] };
const page = '<!doctype html><html><body>stepdeploy</body></html>';

describe('judgeApplication', () => {
  it.each<{ name: string; probe: ApplicationProbe; state: string }>([
    {
      name: 'task provisioning',
      probe: { task: { lastStatus: 'PROVISIONING', containers: [] } },
      state: 'PENDING',
    },
    { name: 'no address yet', probe: { task: running }, state: 'PENDING' },
    {
      name: 'connection refused',
      probe: { task: running, readyz: { error: 'ECONNREFUSED' } },
      state: 'PENDING',
    },
    {
      name: 'db not reachable yet',
      probe: { task: running, readyz: { status: 503, body: 'db-unreachable' } },
      state: 'PENDING',
    },
    {
      name: 'ready and rendered',
      probe: {
        task: running,
        readyz: { status: 200, body: 'ok' },
        home: { status: 200, body: page },
      },
      state: 'PASSED',
    },
  ])('$name → $state', ({ probe, state }) => {
    // Prepare / Act / Assess
    expect(judgeApplication(probe).state).toBe(state);
  });

  it.each<{ name: string; probe: ApplicationProbe; reason: RegExp }>([
    {
      name: 'task stopped',
      probe: {
        task: {
          lastStatus: 'STOPPED',
          stoppedReason: 'Essential container in task exited',
          containers: [{ name: 'wordpress', exitCode: 1, reason: 'OutOfMemoryError' }],
        },
      },
      reason:
        /task stopped: Essential container in task exited; wordpress exit 1 \(OutOfMemoryError\)/,
    },
    {
      name: 'db-auth',
      probe: { task: running, readyz: { status: 503, body: 'db-auth' } },
      reason: /readyz 503: db-auth/,
    },
    {
      name: 'not installed (data missing)',
      probe: { task: running, readyz: { status: 503, body: 'not-installed\n' } },
      reason: /not-installed/,
    },
    {
      name: 'home page error',
      probe: {
        task: running,
        readyz: { status: 200, body: 'ok' },
        home: { status: 500, body: '' },
      },
      reason: /home page returned 500/,
    },
    {
      name: 'installer served',
      probe: {
        task: running,
        readyz: { status: 200, body: 'ok' },
        home: { status: 200, body: '<html><a href="/wp-admin/install.php">' },
      },
      reason: /installer/,
    },
  ])('$name fails with a reason', ({ probe, reason }) => {
    // Prepare / Act / Assess
    expect(() => judgeApplication(probe)).toThrow(ApplicationVerificationError);
    expect(() => judgeApplication(probe)).toThrow(reason);
  });
});

describe('httpGet', () => {
  let server: Server;
  let port = 0;
  let seenHost = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      seenHost = req.headers.host ?? '';
      res
        .writeHead(req.url === '/readyz' ? 503 : 200)
        .end(req.url === '/readyz' ? 'db-auth' : page);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('returns status and body and sends the site Host header', async () => {
    // Act
    const answer = await httpGet('127.0.0.1', port, '/readyz', 'www.example.org');
    // Assess
    expect(answer).toEqual({ status: 503, body: 'db-auth' });
    expect(seenHost).toBe('www.example.org');
  });

  it('reports a refused connection as an error, not a throw', async () => {
    // Prepare
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    // Act
    const answer = await httpGet('127.0.0.1', closedPort, '/', 'x');
    // Assess
    expect(answer).toEqual({ error: expect.stringContaining('ECONNREFUSED') });
  });
});

describe('sightTask (DescribeTasks answer → what the judgement sees)', () => {
  it.each([
    {
      name: 'provisioning, ENI not attached',
      answer: provisioning(),
      lastStatus: 'PROVISIONING',
      address: undefined,
    },
    {
      name: 'pending, ENI attached',
      answer: pending(),
      lastStatus: 'PENDING',
      address: '10.0.3.17',
    },
    { name: 'running', answer: runningTask(), lastStatus: 'RUNNING', address: '10.0.3.17' },
    { name: 'a MISSING failure', answer: missing(), lastStatus: 'STOPPED', address: undefined },
    {
      name: 'neither task nor failure',
      answer: { tasks: [], failures: [] },
      lastStatus: 'PROVISIONING',
      address: undefined,
    },
  ])('$name → $lastStatus at $address', ({ answer, lastStatus, address }) => {
    // Prepare / Act
    const sighting = sightTask(answer);
    // Assess
    expect(sighting.task.lastStatus).toBe(lastStatus);
    expect(sighting.address).toBe(address);
  });

  it.each([
    {
      name: 'an exited container',
      answer: exited(1),
      reason: 'task stopped: Essential container in task exited; wordpress exit 1',
    },
    {
      name: 'an image that could not be pulled',
      answer: failedToStart(),
      reason:
        'task stopped: CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref; wordpress exit ? (CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref)',
    },
    {
      name: 'a task ECS no longer knows',
      answer: missing(),
      reason: 'task stopped: MISSING',
    },
  ])('$name fails the verification with the stop reason', ({ answer, reason }) => {
    // Prepare
    const { task } = sightTask(answer);
    // Act / Assess
    expect(() => judgeApplication({ task })).toThrow(new ApplicationVerificationError(reason));
  });
});

describe('probeApplication', () => {
  const answers = (readyz: HttpAnswer) => {
    const asked: string[] = [];
    const get = async (path: string): Promise<HttpAnswer> => {
      asked.push(path);
      return path === '/readyz' ? readyz : { status: 200, body: page };
    };
    return { asked, get };
  };
  it.each<{
    name: string;
    lastStatus: string;
    readyz: HttpAnswer;
    reachable: boolean;
    asked: string[];
  }>([
    {
      name: 'a pending task',
      lastStatus: 'PENDING',
      readyz: { status: 200, body: 'ok' },
      reachable: true,
      asked: [],
    },
    {
      name: 'a running task with no address',
      lastStatus: 'RUNNING',
      readyz: { status: 200, body: 'ok' },
      reachable: false,
      asked: [],
    },
    {
      name: '/readyz 503',
      lastStatus: 'RUNNING',
      readyz: { status: 503, body: 'db-unreachable' },
      reachable: true,
      asked: ['/readyz'],
    },
    {
      name: '/readyz refused',
      lastStatus: 'RUNNING',
      readyz: { error: 'connect ECONNREFUSED' },
      reachable: true,
      asked: ['/readyz'],
    },
    {
      name: '/readyz 200',
      lastStatus: 'RUNNING',
      readyz: { status: 200, body: 'ok' },
      reachable: true,
      asked: ['/readyz', '/'],
    },
  ])('$name: asks for $asked', async ({ lastStatus, readyz, reachable, asked }) => {
    // Prepare
    const site = answers(readyz);
    const task = { lastStatus, containers: [{ name: 'wordpress' }] };
    // Act
    const probe = await probeApplication(task, reachable ? site.get : undefined);
    // Assess
    expect(site.asked).toEqual(asked);
    expect(probe.task).toBe(task);
    expect(probe.home !== undefined).toBe(asked.includes('/'));
  });
});

describe('verifyApplication (DescribeTasks, then the task over HTTP)', () => {
  const ecs = mockClient(ECSClient);
  const client = new ECSClient({ region: 'us-east-1' });
  let site: Server;
  let port = 0;
  const hosts: string[] = [];
  beforeAll(async () => {
    site = createServer((req, res) => {
      hosts.push(req.headers.host ?? '');
      res.writeHead(200).end(req.url === '/readyz' ? 'ok' : page);
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    port = (site.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => site.close(() => r())));
  beforeEach(() => {
    ecs.reset();
    hosts.length = 0;
  });
  const settings = () => ({
    cluster: CLUSTER,
    appPort: port,
    siteHost: 'stepdeploy-verify.invalid',
  });

  it('probes the address of the running task with the scratch site Host header', async () => {
    // Prepare: loopback stands in for the task's private address
    ecs.on(DescribeTasksCommand).resolves(runningTask('127.0.0.1'));
    // Act
    const verdict = await verifyApplication({ taskArn: TASK }, settings(), client);
    // Assess
    expect(verdict).toEqual({ state: 'PASSED', detail: 'readyz 200 and home page rendered' });
    expect(ecs).toHaveReceivedCommandWith(DescribeTasksCommand, {
      cluster: CLUSTER,
      tasks: [TASK],
    });
    expect(hosts).toEqual(['stepdeploy-verify.invalid', 'stepdeploy-verify.invalid']);
  });

  it('stays PENDING without a request while the task is still pending', async () => {
    // Prepare
    ecs.on(DescribeTasksCommand).resolves(pending('127.0.0.1'));
    // Act
    const verdict = await verifyApplication({ taskArn: TASK }, settings(), client);
    // Assess
    expect(verdict).toEqual({ state: 'PENDING', detail: 'task pending' });
    expect(hosts).toEqual([]);
  });

  it('turns a throttled DescribeTasks into TransientAwsError, which the ASL retries', async () => {
    // Prepare
    ecs.on(DescribeTasksCommand).rejects(
      Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    // Act
    const run = verifyApplication({ taskArn: TASK }, settings(), client);
    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'TransientAwsError',
      message: 'DescribeTasks: ThrottlingException: Rate exceeded',
    });
  });
});
