import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from './context.ts';

vi.hoisted(() => {
  process.env.METRIC_NAMESPACE = 'stepdeploy/BackupVerification';
  process.env.DATABASE_INSTANCE_ID = 'stepdeploy-wordpress';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});
const { handler } = await import('#functions/publish-metrics/handler.ts');
const cloudwatch = mockClient(CloudWatchClient);

/** The whole state as the ASL hands it over (`run.$: $`) after a run that got to the end. */
const verifiedRun = {
  request: {},
  settings: { restorePollSeconds: 30, restoreMaxPolls: 120, appPollSeconds: 15, appMaxPolls: 40 },
  restorePolls: { count: 23 },
  appPolls: { count: 6 },
  cleanup: { status: 'clean' },
  snapshot: {
    snapshotId: 'rds:stepdeploy-wordpress-2026-02-01-03-10',
    snapshotArn:
      'arn:aws:rds:us-east-1:123456789012:snapshot:rds:stepdeploy-wordpress-2026-02-01-03-10',
    snapshotCreateTime: '2026-02-01T03:10:00.000Z',
    source: 'latest-automated',
    pickedAt: '2026-02-01T06:17:03.000Z',
    scratch: {
      instanceId: 'stepdeploy-scratch-3f9a1c0b2d4e',
      expiresAt: '2026-02-01T12:17:03.000Z',
    },
  },
  scratch: {
    host: 'stepdeploy-scratch-3f9a1c0b2d4e.c9akciq32.us-east-1.rds.amazonaws.com',
    port: 3306,
  },
  data: {
    passed: true,
    mode: 'manifest',
    checkedTables: ['wp_options', 'wp_posts'],
    failures: [],
    connectedAt: '2026-02-01T06:29:33.000Z',
  },
  app: { probe: { state: 'PASSED', detail: 'readyz 200 and home page rendered' } },
};
const dimensions = [{ Name: 'DatabaseInstance', Value: 'stepdeploy-wordpress' }];

beforeEach(() => cloudwatch.reset());

describe('PublishMetrics handler', () => {
  it('publishes success, RTO and RPO under the verification namespace', async () => {
    // Prepare
    cloudwatch.on(PutMetricDataCommand).resolves({});
    // Act
    const out = await handler(
      { executionStartTime: '2026-02-01T06:17:00.000Z', run: verifiedRun },
      lambdaContext('PublishMetrics'),
    );
    // Assess
    expect(out).toEqual({ passed: true, rtoSeconds: 750, rpoSeconds: 11_220 });
    expect(cloudwatch).toHaveReceivedCommandWith(PutMetricDataCommand, {
      Namespace: 'stepdeploy/BackupVerification',
      MetricData: [
        { MetricName: 'VerificationSucceeded', Value: 1, Unit: 'Count', Dimensions: dimensions },
        { MetricName: 'VerificationFailed', Value: 0, Unit: 'Count', Dimensions: dimensions },
        {
          MetricName: 'RestoreDurationSeconds',
          Value: 750,
          Unit: 'Seconds',
          Dimensions: dimensions,
        },
        {
          MetricName: 'SnapshotAgeSeconds',
          Value: 11_220,
          Unit: 'Seconds',
          Dimensions: dimensions,
        },
      ],
    });
  });

  it('a run that failed before a snapshot was picked publishes the failure alone', async () => {
    // Prepare
    cloudwatch.on(PutMetricDataCommand).resolves({});
    const run = {
      request: { snapshotId: 'stepdeploy-release-r-9' },
      cleanup: { status: 'clean' },
      failure: {
        step: 'PickSnapshot',
        Error: 'NoSnapshotError',
        Cause: 'snapshot stepdeploy-release-r-9 does not exist',
      },
    };
    // Act
    const out = await handler(
      { executionStartTime: '2026-02-01T06:17:00.000Z', run },
      lambdaContext('PublishMetrics'),
    );
    // Assess
    expect(out).toEqual({ passed: false });
    expect(cloudwatch.commandCalls(PutMetricDataCommand)[0]?.args[0].input.MetricData).toEqual([
      { MetricName: 'VerificationSucceeded', Value: 0, Unit: 'Count', Dimensions: dimensions },
      { MetricName: 'VerificationFailed', Value: 1, Unit: 'Count', Dimensions: dimensions },
    ]);
  });

  it('turns a throttled PutMetricData into TransientAwsError, which the ASL retries', async () => {
    // Prepare
    cloudwatch.on(PutMetricDataCommand).rejects(
      Object.assign(new Error('Rate exceeded'), {
        name: 'Throttling',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    // Act
    const error = await handler(
      { executionStartTime: '2026-02-01T06:17:00.000Z', run: verifiedRun },
      lambdaContext('PublishMetrics'),
    ).catch((e: unknown) => e);
    // Assess
    expect(error).toMatchObject({
      name: 'TransientAwsError',
      message: 'PutMetricData: Throttling: Rate exceeded',
    });
  });

  it('refuses a run without the execution start before any AWS call (ParseError)', async () => {
    // Prepare / Act
    const error = (await handler(
      { run: verifiedRun } as never,
      lambdaContext('PublishMetrics'),
    ).catch((e: unknown) => e)) as Error & { cause?: unknown };
    // Assess
    expect(error.name).toBe('ParseError');
    expect(JSON.stringify(error.cause)).toMatch(/executionStartTime/);
    expect(cloudwatch.calls()).toHaveLength(0);
  });
});
