import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeTasksCommand, ECSClient } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  judgeAnswers,
  judgeTrial,
  probeTrialTask,
  type TrialProbe,
  type TrialTaskView,
} from '#functions/check-trial/check-trial.ts';
import type { HttpAnswer } from '#functions/verify-application/verify-application.ts';
import { lambdaContext } from '../handlers/context.ts';

const CREATED = new Date('2026-02-01T10:00:00Z');
const at = (seconds: number) => new Date(CREATED.getTime() + seconds * 1000);
const TASK_ARN = 'arn:aws:ecs:us-east-1:123456789012:task/sd/0a1b2c3d4e5f';
const running: TrialTaskView = {
  taskArn: TASK_ARN,
  lastStatus: 'RUNNING',
  createdAt: CREATED,
  containers: [{ name: 'wordpress' }],
  address: '10.0.3.10',
};
const ok = (body = 'ok\n'): HttpAnswer => ({ status: 200, body });
const HOME = ok('<!doctype html><html><body>Hello</body></html>');
const policy = { timeoutSeconds: 300, failingChecks: 2 };
const fresh = { polls: 0, failingStreak: 0 };

describe('judgeAnswers', () => {
  it.each<[string, Pick<TrialProbe, 'health' | 'readyz' | 'home'>, string, RegExp]>([
    [
      'all three answer 200',
      { health: ok(), readyz: ok(), home: HOME },
      'served',
      /\/healthz, \/readyz and \/ answered 200/,
    ],
    [
      'a fresh database',
      { health: ok(), readyz: { status: 503, body: 'not-installed\n' } },
      'served',
      /not installed yet/,
    ],
    [
      'the health path answers 500',
      { health: { status: 500, body: 'fault' } },
      'wrong',
      /\/healthz answered 500: fault/,
    ],
    [
      'the home page answers 500',
      { health: ok(), readyz: ok(), home: { status: 500, body: 'broken' } },
      'wrong',
      /\/ answered 500/,
    ],
    [
      'the home page is empty',
      { health: ok(), readyz: ok(), home: ok('') },
      'wrong',
      /without an HTML document/,
    ],
    [
      'the database refuses the login',
      { health: ok(), readyz: { status: 503, body: 'db-auth\n' } },
      'wrong',
      /\/readyz answered 503: db-auth/,
    ],
    [
      'the database is unreachable',
      { health: ok(), readyz: { status: 503, body: 'db-unreachable\n' } },
      'waiting',
      /db-unreachable/,
    ],
    [
      'nothing listens yet',
      { health: { error: 'connect ECONNREFUSED' } },
      'waiting',
      /not answering yet/,
    ],
    [
      'the home page times out',
      { health: ok(), readyz: ok(), home: { error: 'timed out after 5000 ms' } },
      'waiting',
      /\/ not answering yet/,
    ],
  ])('%s: %s', (_, probe, kind, reason) => {
    // Prepare / Act
    const verdict = judgeAnswers('/healthz', probe);
    // Assess
    expect(verdict.kind).toBe(kind);
    expect(verdict.reason).toMatch(reason);
  });
});

describe('judgeTrial', () => {
  it.each<[string, Partial<TrialProbe>, typeof fresh, string, RegExp, number]>([
    [
      'a task that serves passes',
      { task: running, health: ok(), readyz: ok(), home: HOME },
      fresh,
      'PASSED',
      /answered 200/,
      0,
    ],
    [
      'one wrong answer waits for the next check',
      { task: running, health: { status: 500, body: '' } },
      fresh,
      'IN_PROGRESS',
      /\/healthz answered 500/,
      1,
    ],
    [
      'the second wrong answer in a row fails',
      { task: running, health: { status: 500, body: '' } },
      { polls: 1, failingStreak: 1 },
      'FAILED',
      /answered wrongly 2 time\(s\) in a row: \/healthz answered 500/,
      2,
    ],
    [
      'a timeout between wrong answers resets the streak',
      { task: running, health: { error: 'timed out' } },
      { polls: 1, failingStreak: 1 },
      'IN_PROGRESS',
      /not answering yet/,
      0,
    ],
    [
      'a task still provisioning waits',
      { task: { ...running, lastStatus: 'PROVISIONING' } },
      fresh,
      'IN_PROGRESS',
      /trial task provisioning/,
      0,
    ],
    [
      'a stopped task fails at once, with its exit',
      {
        task: {
          ...running,
          lastStatus: 'STOPPED',
          stoppedReason: 'Essential container in task exited',
          containers: [{ name: 'wordpress', exitCode: 3, reason: 'fault: exit at start' }],
        },
      },
      fresh,
      'FAILED',
      /stopped before it served: Essential container in task exited; wordpress exit 3 \(fault: exit at start\)/,
      0,
    ],
    [
      "no task placed fails with RunTask's reasons",
      { failures: [{ reason: 'RESOURCE:ENI' }] },
      fresh,
      'FAILED',
      /RunTask started no trial task: RESOURCE:ENI/,
      0,
    ],
  ])('%s', (_, probe, progress, status, reason, streak) => {
    // Prepare / Act
    const verdict = judgeTrial(
      '/healthz',
      { failures: [], now: at(20), ...probe },
      policy,
      progress,
    );
    // Assess
    expect(verdict.status).toBe(status);
    expect(verdict.reason).toMatch(reason);
    expect(verdict.progress).toEqual({ polls: progress.polls + 1, failingStreak: streak });
  });

  it('a task not answering past the timeout fails, saying what it last did', () => {
    // Prepare
    const probe = {
      task: running,
      failures: [],
      health: { error: 'connect ECONNREFUSED' },
      now: at(301),
    };
    // Act
    const verdict = judgeTrial('/healthz', probe, policy, { polls: 20, failingStreak: 0 });
    // Assess
    expect(verdict).toMatchObject({
      status: 'FAILED',
      taskArn: TASK_ARN,
      reason:
        'the trial task did not serve within 300 s: /healthz not answering yet (connect ECONNREFUSED)',
    });
  });
});

describe('probeTrialTask', () => {
  it('asks the health path, /readyz, then the home page, and stops at the first wrong answer', async () => {
    // Prepare
    const asked: string[] = [];
    const get = (answers: Record<string, HttpAnswer>) => async (path: string) => {
      asked.push(path);
      return answers[path] ?? { error: 'unexpected path' };
    };
    // Act
    const all = await probeTrialTask(
      '/healthz',
      running,
      get({ '/healthz': ok(), '/readyz': ok(), '/': HOME }),
    );
    const firstAsked = asked.splice(0);
    const broken = await probeTrialTask(
      '/healthz',
      running,
      get({ '/healthz': { status: 500, body: '' } }),
    );
    const starting = await probeTrialTask(
      '/healthz',
      { ...running, lastStatus: 'PENDING' },
      get({}),
    );
    // Assess
    expect(firstAsked).toEqual(['/healthz', '/readyz', '/']);
    expect(all.home).toEqual(HOME);
    expect(asked).toEqual(['/healthz']);
    expect(broken).toEqual({ health: { status: 500, body: '' } });
    expect(starting).toEqual({});
  });
});

describe('CheckTrial handler', () => {
  let server: Server;
  let hosts: string[];
  const ecs = mockClient(ECSClient);

  beforeAll(async () => {
    server = createServer((req, res) => {
      hosts.push(req.headers.host ?? '');
      const body = req.url === '/' ? '<!doctype html><html><body>Hi</body></html>' : 'ok\n';
      res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    vi.stubEnv('APP_PORT', String((server.address() as AddressInfo).port));
    vi.stubEnv('SITE_HOST', 'www.example.com');
    vi.stubEnv('HEALTH_CHECK_PATH', '/healthz');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    ecs.reset();
    hosts = [];
  });

  it("asks the running task on its private IP with the site's Host header and passes it", async () => {
    // Prepare: DescribeTasks as the API reference shows a running awsvpc task.
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        {
          taskArn: TASK_ARN,
          lastStatus: 'RUNNING',
          desiredStatus: 'RUNNING',
          createdAt: new Date(),
          startedBy: 'stepdeploy-trial',
          attachments: [
            {
              type: 'ElasticNetworkInterface',
              status: 'ATTACHED',
              details: [
                { name: 'subnetId', value: 'subnet-0abc' },
                { name: 'networkInterfaceId', value: 'eni-0abc' },
                { name: 'privateIPv4Address', value: '127.0.0.1' },
              ],
            },
          ],
          containers: [{ name: 'wordpress', lastStatus: 'RUNNING', healthStatus: 'UNKNOWN' }],
        },
      ],
      failures: [],
    });
    const { handler } = await import('#functions/check-trial/handler.ts');
    // Act
    const out = await handler(
      {
        cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/sd',
        tasks: [{ TaskArn: TASK_ARN, LastStatus: 'PROVISIONING' }],
        failures: [],
        policy: { timeoutSeconds: 900, failingChecks: '2' },
        progress: { polls: 0, failingStreak: 0 },
      } as never,
      lambdaContext('CheckTrial'),
    );
    // Assess
    expect(out).toMatchObject({ status: 'PASSED', taskArn: TASK_ARN });
    expect(hosts).toEqual(['www.example.com', 'www.example.com', 'www.example.com']);
    expect(ecs.commandCalls(DescribeTasksCommand)[0]?.args[0].input).toEqual({
      cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/sd',
      tasks: [TASK_ARN],
    });
  });

  it('a task ECS no longer knows has stopped: the trial fails', async () => {
    // Prepare
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [],
      failures: [{ arn: TASK_ARN, reason: 'MISSING' }],
    });
    const { handler } = await import('#functions/check-trial/handler.ts');
    // Act
    const out = await handler(
      {
        cluster: 'sd',
        tasks: [{ TaskArn: TASK_ARN }],
        failures: [],
        policy: { timeoutSeconds: 900, failingChecks: 2 },
      } as never,
      lambdaContext('CheckTrial'),
    );
    // Assess
    expect(out).toMatchObject({
      status: 'FAILED',
      reason: expect.stringMatching(/the trial task stopped before it served: MISSING/),
    });
  });

  it('refuses input without the RunTask answer, naming the field', async () => {
    // Prepare
    const { handler } = await import('#functions/check-trial/handler.ts');
    // Act
    const call = handler(
      { cluster: 'sd', policy: { timeoutSeconds: 900, failingChecks: 2 } } as never,
      lambdaContext('CheckTrial'),
    );
    // Assess
    const error = await call.catch((e: Error & { cause?: unknown }) => e);
    expect(error).toMatchObject({ name: 'ParseError' });
    expect(JSON.stringify((error as { cause?: unknown }).cause)).toMatch(/"tasks"/);
    expect(ecs.commandCalls(DescribeTasksCommand)).toHaveLength(0);
  });
});
