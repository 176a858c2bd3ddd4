import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { buildMetrics, putMetrics } from '#functions/publish-metrics/publish-metrics.ts';

const dims = { DatabaseInstance: 'db' };

describe('buildMetrics', () => {
  it.each([
    {
      name: 'passing run: RTO and RPO',
      run: {
        snapshot: { snapshotCreateTime: '2025-06-01T03:00:00Z', pickedAt: '2025-06-01T04:00:00Z' },
        data: { connectedAt: '2025-06-01T04:12:30Z' },
      },
      summary: { passed: true, rtoSeconds: 750, rpoSeconds: 3600 },
    },
    {
      name: 'failed at VerifyData: RTO still measured',
      run: {
        snapshot: { snapshotCreateTime: '2025-06-01T03:00:00Z', pickedAt: '2025-06-01T04:00:00Z' },
        failure: { step: 'VerifyData' },
      },
      summary: { passed: false, rtoSeconds: undefined, rpoSeconds: 3600 },
    },
    {
      name: 'failed at PickSnapshot: result only',
      run: { failure: { step: 'PickSnapshot' } },
      summary: { passed: false, rtoSeconds: undefined, rpoSeconds: undefined },
    },
  ])('$name', ({ run, summary }) => {
    // Act
    const out = buildMetrics({ executionStartTime: '2025-06-01T04:00:00Z', run }, dims);
    // Assess
    expect(out.summary).toEqual(summary);
    const byName = Object.fromEntries(out.data.map((d) => [d.MetricName, d.Value]));
    expect(byName.VerificationSucceeded).toBe(summary.passed ? 1 : 0);
    expect(byName.VerificationFailed).toBe(summary.passed ? 0 : 1);
    expect(byName.RestoreDurationSeconds).toBe(summary.rtoSeconds);
    expect(byName.SnapshotAgeSeconds).toBe(summary.rpoSeconds);
    for (const d of out.data)
      expect(d.Dimensions).toEqual([{ Name: 'DatabaseInstance', Value: 'db' }]);
  });
});

describe('putMetrics', () => {
  it('publishes into the namespace', async () => {
    // Prepare
    const cw = mockClient(CloudWatchClient);
    cw.on(PutMetricDataCommand).resolves({});
    const { data } = buildMetrics({ executionStartTime: '2025-06-01T04:00:00Z', run: {} }, dims);
    // Act
    await putMetrics(new CloudWatchClient({}), 'stepdeploy/BackupVerification', data);
    // Assess
    expect(cw).toHaveReceivedCommandWith(PutMetricDataCommand, {
      Namespace: 'stepdeploy/BackupVerification',
      MetricData: data,
    });
  });
});
