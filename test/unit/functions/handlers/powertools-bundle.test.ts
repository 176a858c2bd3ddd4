import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS_NAMESPACE } from '#stack/constructs/dashboard.ts';
import { bundleStep, constructBundling } from '../../../../bench/lambda-bundles.ts';

// The deployed artifact, not the source: RecordRelease bundled with the StepFunction
// construct's settings (SDK and @smithy external, semver stand-in, no sources in the map) and
// invoked in a fresh node process set up as the Lambda runtime sets it up. Only loopback is
// reached: a local HTTP server answers the SDK calls, a local UDP socket is the X-Ray daemon.
const ROOT = resolve(import.meta.dirname, '../../../..');
// Under node_modules so the bundle's external @aws-sdk/* and @smithy/* resolve as in Lambda.
const OUT_DIR = join(ROOT, 'node_modules/.cache/stepdeploy-test/powertools-bundle');
const TRACE_ROOT = '1-5759e988-bd862e3fe1be46a994272793';
const SERVICE = 'powertools-bundle-test';

interface XraySegment {
  name: string;
  trace_id?: string;
  annotations?: Record<string, unknown>;
  aws?: { operation?: string };
  subsegments?: XraySegment[];
}

let api: Server;
let daemon: Socket;
const targets: string[] = [];
const datagrams: string[] = [];
let run: { stdout: string; stderr: string };

const listen = (server: Server) =>
  new Promise<number>((res) =>
    server.listen(0, '127.0.0.1', () => res((server.address() as AddressInfo).port)),
  );

beforeAll(async () => {
  const outfile = join(OUT_DIR, 'record-release', 'index.js');
  await rm(OUT_DIR, { recursive: true, force: true });
  await mkdir(OUT_DIR, { recursive: true });
  const settings = await constructBundling();
  await bundleStep('record-release', settings, outfile);

  // DynamoDB and Step Functions speak JSON 1.0; the target header names the operation.
  api = createServer((req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    targets.push(target);
    req.resume().on('end', () => {
      const body = target.endsWith('.GetExecutionHistory') ? { events: [] } : {};
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify(body));
    });
  });
  const apiPort = await listen(api);
  daemon = createSocket('udp4');
  daemon.on('message', (msg) => datagrams.push(msg.toString('utf8')));
  await new Promise<void>((res) => daemon.bind(0, '127.0.0.1', res));
  const daemonPort = daemon.address().port;

  const event = {
    executionArn: 'arn:aws:states:us-east-1:123456789012:execution:sd-release:r-9',
    state: {
      release: {
        releaseId: 'r-9',
        trigger: 'manual',
        startedBy: 'alice',
        startedAt: '2026-01-04T00:00:00.000Z',
        source: { type: 'codecommit', commitId: 'a'.repeat(40) },
        target: { service: 'sd', cluster: 'c' },
      },
      outcome: { status: 'SUCCEEDED', step: 'none', error: 'none', reason: 'ok', message: 'm' },
      artifacts: {
        image: { uri: 'r@sha256:1', digest: 'sha256:1' },
        snapshot: { id: 'sd-release-r-9' },
      },
      taskDef: {
        taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/sd-wordpress:10',
        previousTaskDefinitionArn:
          'arn:aws:ecs:us-east-1:123456789012:task-definition/sd-wordpress:9',
      },
      deploy: { health: { status: 'HEALTHY', reason: '1 task(s) running' } },
    },
  };
  const context = {
    functionName: 'sd-RecordRelease',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:sd-RecordRelease',
    memoryLimitInMB: '256',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: '/aws/lambda/sd-RecordRelease',
    logStreamName: '2026/01/01/[$LATEST]abcdef',
  };
  // The runtime keeps the process up after the response, so the UDP sends complete.
  const invoke = `
    const { handler } = require(${JSON.stringify(outfile)});
    const context = { ...${JSON.stringify(context)}, getRemainingTimeInMillis: () => 30000 };
    handler(${JSON.stringify(event)}, context).then(
      (out) => { process.stdout.write('RESULT ' + JSON.stringify(out) + '\\n'); setTimeout(() => {}, 300); },
      (error) => { console.error(error); process.exitCode = 1; },
    );`;
  run = await new Promise((res, rej) =>
    execFile(
      process.execPath,
      ['-e', invoke],
      {
        cwd: OUT_DIR,
        timeout: 30_000,
        env: {
          PATH: process.env.PATH,
          NODE_OPTIONS: settings.nodeOptions ?? '',
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
          AWS_SECRET_ACCESS_KEY: 'example-secret',
          AWS_ENDPOINT_URL: `http://127.0.0.1:${apiPort}`,
          AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
          AWS_LAMBDA_FUNCTION_NAME: context.functionName,
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
          AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
          LAMBDA_TASK_ROOT: join(OUT_DIR, 'record-release'),
          _HANDLER: 'index.handler',
          _X_AMZN_TRACE_ID: `Root=${TRACE_ROOT};Parent=53995c3f42cd8ad8;Sampled=1`,
          AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemonPort}`,
          AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
          POWERTOOLS_SERVICE_NAME: SERVICE,
          POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
          POWERTOOLS_LOGGER_LOG_EVENT: 'true',
          LEDGER_TABLE_NAME: 'sd-ledger',
        },
      },
      (error, stdout, stderr) =>
        error ? rej(new Error(`${error.message}\n${stderr}`)) : res({ stdout, stderr }),
    ),
  );
}, 120_000);

afterAll(async () => {
  await new Promise((res) => api?.close(res));
  daemon?.close();
});

const jsonLines = () =>
  run.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

const segments = (): XraySegment[] => {
  const flat: XraySegment[] = [];
  const walk = (s: XraySegment) => {
    flat.push(s);
    for (const sub of s.subsegments ?? []) walk(sub);
  };
  // Each datagram is the daemon header line, then one JSON document.
  for (const d of datagrams) walk(JSON.parse(d.slice(d.indexOf('\n') + 1)) as XraySegment);
  return flat;
};

describe('RecordRelease bundle with Powertools (as deployed)', () => {
  it('answers with the ledger record after calling Step Functions and DynamoDB', () => {
    // Prepare / Act: in beforeAll
    // Assess
    expect(run.stdout).toContain('RESULT {"releaseId":"r-9","outcome":"SUCCEEDED"');
    expect(targets).toEqual(['AWSStepFunctions.GetExecutionHistory', 'DynamoDB_20120810.PutItem']);
  });

  it('emits a structured log line carrying the Lambda context and the trace id', () => {
    // Prepare / Act: in beforeAll
    // Assess
    const line = jsonLines().find((l) => l.message === 'Lambda invocation event');
    expect(line).toMatchObject({
      level: 'INFO',
      service: SERVICE,
      function_name: 'sd-RecordRelease',
      function_request_id: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
      cold_start: true,
      xray_trace_id: TRACE_ROOT,
    });
  });

  it('prints the release metrics as one EMF document on stdout', () => {
    // Prepare / Act: in beforeAll
    // Assess
    const emf = jsonLines().filter((l) => '_aws' in l);
    expect(emf).toHaveLength(1);
    const doc = emf[0] as {
      _aws: { CloudWatchMetrics: { Namespace: string; Metrics: { Name: string }[] }[] };
      service: string;
      ReleaseSucceeded: number;
    };
    expect(doc._aws.CloudWatchMetrics[0]?.Namespace).toBe(METRICS_NAMESPACE);
    expect(doc._aws.CloudWatchMetrics[0]?.Metrics.map((m) => m.Name)).toContain('ReleaseSucceeded');
    expect(doc).toMatchObject({ service: SERVICE, ReleaseSucceeded: 1 });
  });

  it('sends the handler subsegment and the SDK calls it made to the X-Ray daemon', () => {
    // Prepare / Act: in beforeAll
    // Assess
    const all = segments();
    const handler = all.find((s) => s.name === '## index.handler');
    expect(handler?.trace_id).toBe(TRACE_ROOT);
    expect(handler?.annotations).toMatchObject({ ColdStart: true, Service: SERVICE });
    expect(all.filter((s) => s.aws?.operation).map((s) => `${s.name} ${s.aws?.operation}`)).toEqual(
      expect.arrayContaining(['SFN GetExecutionHistory', 'DynamoDB PutItem']),
    );
  });
});
