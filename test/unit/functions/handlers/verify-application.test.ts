import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeTasksCommand, ECSClient } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CLUSTER,
  exited,
  provisioning,
  running,
  TASK,
} from '../verify-application/describe-tasks.ts';
import { lambdaContext } from './context.ts';

vi.hoisted(() => {
  process.env.CLUSTER_ARN = 'arn:aws:ecs:us-east-1:123456789012:cluster/stepdeploy';
  process.env.SITE_HOST = 'stepdeploy-verify.invalid';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});

// The one-off task's WordPress, on loopback (DescribeTasks below gives 127.0.0.1 as its
// address); APP_PORT is read at cold start, so it is known before the handler is imported.
const seen: { path: string; host: string }[] = [];
let readyz: [number, string] = [200, 'ok'];
const site = createServer((req, res) => {
  seen.push({ path: req.url ?? '', host: req.headers.host ?? '' });
  if (req.url === '/readyz') res.writeHead(readyz[0]).end(readyz[1]);
  else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html>ok</html>');
});
await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
process.env.APP_PORT = String((site.address() as AddressInfo).port);
const { handler } = await import('#functions/verify-application/handler.ts');
const ecs = mockClient(ECSClient);

afterAll(() => new Promise<void>((resolve) => site.close(() => resolve())));
beforeEach(() => {
  ecs.reset();
  seen.length = 0;
  readyz = [200, 'ok'];
});

describe('VerifyApplication handler', () => {
  it('PASSED once the running task answers /readyz and renders the home page', async () => {
    // Prepare
    ecs.on(DescribeTasksCommand).resolves(running('127.0.0.1'));
    // Act
    const out = await handler({ taskArn: TASK }, lambdaContext('VerifyApplication'));
    // Assess
    expect(out).toEqual({ state: 'PASSED', detail: 'readyz 200 and home page rendered' });
    expect(ecs).toHaveReceivedCommandWith(DescribeTasksCommand, {
      cluster: CLUSTER,
      tasks: [TASK],
    });
    expect(seen).toEqual([
      { path: '/readyz', host: 'stepdeploy-verify.invalid' },
      { path: '/', host: 'stepdeploy-verify.invalid' },
    ]);
  });

  it.each([
    [provisioning(), [200, 'ok'], 'task provisioning'],
    [running('127.0.0.1'), [503, 'db-unreachable'], 'readyz 503: db-unreachable'],
  ] as const)('PENDING while it boots: %#', async (answer, ready, detail) => {
    // Prepare
    ecs.on(DescribeTasksCommand).resolves(answer);
    readyz = [...ready];
    // Act
    const out = await handler({ taskArn: TASK }, lambdaContext('VerifyApplication'));
    // Assess
    expect(out).toEqual({ state: 'PENDING', detail });
  });

  it('fails with ApplicationVerificationError naming why the task stopped', async () => {
    // Prepare
    ecs.on(DescribeTasksCommand).resolves(exited(137));
    // Act
    const error = await handler({ taskArn: TASK }, lambdaContext('VerifyApplication')).catch(
      (e: unknown) => e,
    );
    // Assess
    expect(error).toMatchObject({
      name: 'ApplicationVerificationError',
      message: 'task stopped: Essential container in task exited; wordpress exit 137',
    });
    expect(seen).toEqual([]);
  });

  it('refuses a task id that is not an ARN before any AWS call (ParseError)', async () => {
    // Prepare / Act
    const error = (await handler(
      { taskArn: '0f5e3c2a9b8d4e7f8a1b2c3d4e5f6a7b' },
      lambdaContext('VerifyApplication'),
    ).catch((e: unknown) => e)) as Error & { cause?: unknown };
    // Assess
    expect(error.name).toBe('ParseError');
    expect(JSON.stringify(error.cause)).toMatch(/taskArn/);
    expect(ecs.calls()).toHaveLength(0);
  });
});
