import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import {
  VERIFY_METRICS,
  VERIFY_METRICS_DIMENSION,
  VERIFY_METRICS_NAMESPACE,
} from '#commons/metrics.ts';
import { ALARM_ON_ANY } from '../dashboard.ts';

/** Props of {@link VerificationAlarms}. */
export interface VerificationAlarmsProps {
  /** The live database's identifier: the dimension PublishMetrics publishes under. */
  readonly databaseInstanceId: string;
  /** Where every alarm goes. */
  readonly topic: sns.ITopic;
  /** Alarm when a restore takes longer (default 45 minutes). */
  readonly rtoThreshold?: Duration;
}

/**
 * PublishMetrics' metrics and the alarms on them: a failed verification, no success in 26
 * hours, a restore slower than the RTO. Created in `scope`, not a Construct node of its own
 * (see ScratchRestore).
 */
export class VerificationAlarms {
  readonly alarms: {
    readonly failed: cloudwatch.Alarm;
    readonly noRecentSuccess: cloudwatch.Alarm;
    readonly rtoAboveThreshold: cloudwatch.Alarm;
  };
  /** The metrics (daily), in the shape OperationsDashboard's `restoreMetrics` takes. */
  readonly metrics: {
    readonly restoreDuration: cloudwatch.IMetric;
    readonly snapshotAge: cloudwatch.IMetric;
    readonly verificationFailed: cloudwatch.IMetric;
  };

  constructor(scope: Construct, props: VerificationAlarmsProps) {
    const metric = (name: string, statistic: string, period: Duration) =>
      new cloudwatch.Metric({
        namespace: VERIFY_METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: { [VERIFY_METRICS_DIMENSION]: props.databaseInstanceId },
        statistic,
        period,
      });
    const failed = new cloudwatch.Alarm(scope, 'VerificationFailedAlarm', {
      alarmDescription: 'A backup verification failed: the notification names the failed check.',
      metric: metric(VERIFY_METRICS.failed, 'Maximum', Duration.hours(1)),
      ...ALARM_ON_ANY,
    });
    // 26 hourly periods with no success (missing data counts): a daily run was missed or failed.
    // Missing data may breach here because PublishMetrics does publish this metric, every run.
    const noRecentSuccess = new cloudwatch.Alarm(scope, 'NoRecentSuccessAlarm', {
      alarmDescription: 'No successful backup verification in the last 26 hours.',
      metric: metric(VERIFY_METRICS.succeeded, 'Maximum', Duration.hours(1)),
      threshold: 1,
      evaluationPeriods: 26,
      datapointsToAlarm: 26,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    const rtoAboveThreshold = new cloudwatch.Alarm(scope, 'RtoAboveThresholdAlarm', {
      alarmDescription: 'A restore took longer than the recovery-time objective.',
      metric: metric(VERIFY_METRICS.rto, 'Maximum', Duration.hours(1)),
      threshold: (props.rtoThreshold ?? Duration.minutes(45)).toSeconds(),
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    for (const alarm of [failed, noRecentSuccess, rtoAboveThreshold]) {
      alarm.addAlarmAction(new cwActions.SnsAction(props.topic));
    }
    this.alarms = { failed, noRecentSuccess, rtoAboveThreshold };
    const day = Duration.days(1);
    this.metrics = {
      restoreDuration: metric(VERIFY_METRICS.rto, 'Maximum', day).with({
        label: 'Restore time (RTO)',
      }),
      snapshotAge: metric(VERIFY_METRICS.rpo, 'Maximum', day).with({
        label: 'Snapshot age (RPO)',
      }),
      verificationFailed: metric(VERIFY_METRICS.failed, 'Sum', day).with({
        label: 'Verifications failed',
      }),
    };
  }
}
