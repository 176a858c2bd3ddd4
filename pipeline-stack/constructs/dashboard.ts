import { CfnOutput, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRICS_SERVICE, RELEASE_METRICS, RELEASE_METRICS_NAMESPACE } from '#commons/metrics.ts';

/** Release metric names RecordRelease publishes (namespace METRICS_NAMESPACE; #commons/metrics.ts). */
export const METRIC_NAMES = {
  releaseSucceeded: RELEASE_METRICS.succeeded,
  releaseFailed: RELEASE_METRICS.failed,
  releaseRolledBack: RELEASE_METRICS.rolledBack,
  failureDirty: RELEASE_METRICS.failureDirty,
  releaseDuration: RELEASE_METRICS.duration,
  timeToHealthy: RELEASE_METRICS.timeToHealthy,
} as const;

/** Namespace of the release metrics (POWERTOOLS_METRICS_NAMESPACE of the steps). */
export const METRICS_NAMESPACE = RELEASE_METRICS_NAMESPACE;

/**
 * Default value of the `service` dimension Powertools adds to every custom metric
 * (POWERTOOLS_SERVICE_NAME of the functions); the pipeline stack uses its config prefix.
 */
export { METRICS_SERVICE };

/**
 * Alarm settings for a count that should stay at zero: in alarm from the first one in a
 * period, OK when nothing is reported.
 */
export const ALARM_ON_ANY = {
  threshold: 1,
  evaluationPeriods: 1,
  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
} as const satisfies Partial<cloudwatch.AlarmProps>;

/** Props of OperationsDashboard. */
export interface OperationsDashboardProps {
  readonly releaseStateMachine: sfn.IStateMachine;
  /** The restore-verification machine; its native metrics are charted too. */
  readonly verifyRestoreStateMachine?: sfn.IStateMachine;
  /** Alarm actions go here. */
  readonly topic: sns.ITopic;
  /** Dimensions the steps publish with (Powertools adds `service`). Default { service: METRICS_SERVICE }. */
  readonly dimensions?: Record<string, string>;
  readonly dashboardName?: string;
  /**
   * The restore-verification metrics, charted as they are published: PublishMetrics writes
   * them under its own namespace and dimension, and the verify-restore construct that runs it
   * owns their alarms (verify-restore-state-machine.ts `metrics` and `alarms`). Without them
   * the dashboard charts no restore metrics: there is no other source of them.
   */
  readonly restoreMetrics?: {
    readonly restoreDuration: cloudwatch.IMetric;
    readonly snapshotAge: cloudwatch.IMetric;
    readonly verificationFailed: cloudwatch.IMetric;
  };
  /** Alarms defined elsewhere (e.g. the verify-restore construct's) shown in the alarm widget. */
  readonly externalAlarms?: readonly cloudwatch.IAlarm[];
  /** Trigger dead-letter queue, alarmed when a trigger could not start a release. */
  readonly triggerDeadLetterQueue?: sqs.IQueue;
}

/**
 * The operations view: releases by outcome, release duration p50/p90, time to healthy,
 * rollbacks, restore RTO and snapshot age; alarms on failed releases, FailureDirty and
 * trigger dead letters (the restore alarms belong to the verify-restore construct), all
 * sent to the notification topic.
 */
export class OperationsDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    const dimensionsMap = props.dimensions ?? { service: METRICS_SERVICE };
    const metric = (
      metricName: string,
      statistic: string,
      period = Duration.hours(1),
      label?: string,
    ) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap,
        statistic,
        period,
        ...(label ? { label } : {}),
      });
    const alarmAction = new actions.SnsAction(props.topic);
    const alarm = (alarmId: string, alarmProps: cloudwatch.AlarmProps) => {
      const created = new cloudwatch.Alarm(this, alarmId, alarmProps);
      created.addAlarmAction(alarmAction);
      this.alarms.push(created);
      return created;
    };

    const release = props.releaseStateMachine;
    const failedExecutions = new cloudwatch.MathExpression({
      expression: 'failed + timedOut + aborted',
      usingMetrics: {
        failed: release.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
        timedOut: release.metricTimedOut({ period: Duration.minutes(5), statistic: 'Sum' }),
        aborted: release.metricAborted({ period: Duration.minutes(5), statistic: 'Sum' }),
      },
      label: 'Releases not succeeded',
      period: Duration.minutes(5),
    });
    // Native execution metrics, so a release is alarmed even when no step got to publish.
    alarm('ReleaseFailedAlarm', {
      alarmDescription:
        'A release did not succeed (failed, rolled back, timed out or aborted). Run `stepdeploy status` for the step and reason.',
      metric: failedExecutions,
      ...ALARM_ON_ANY,
    });
    alarm('FailureDirtyAlarm', {
      alarmDescription:
        'A rollback did not get healthy: the service may run an unproven revision. Act now: `stepdeploy status`, then `stepdeploy rollback`.',
      metric: metric(METRIC_NAMES.failureDirty, 'Sum', Duration.minutes(5)),
      ...ALARM_ON_ANY,
    });

    const day = Duration.days(1);
    // The median and the slow tail of a duration, per day.
    const dailyPercentiles = (metricName: string) =>
      (['p50', 'p90'] as const).map((p) => metric(metricName, p, day, p));

    if (props.triggerDeadLetterQueue) {
      alarm('TriggerDeadLettersAlarm', {
        alarmDescription:
          'A push or upload could not start a release (see the trigger dead-letter queue); start it with `stepdeploy release`.',
        metric: props.triggerDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        ...ALARM_ON_ANY,
      });
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      ...(props.dashboardName ? { dashboardName: props.dashboardName } : {}),
      defaultInterval: Duration.days(14),
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          '# stepdeploy\nReleases, health gating and backups. `stepdeploy status` shows one release step by step; `stepdeploy history` the ledger.',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Releases by outcome (per day)',
        width: 12,
        stacked: true,
        left: [
          metric(METRIC_NAMES.releaseSucceeded, 'Sum', day, 'Succeeded'),
          metric(METRIC_NAMES.releaseFailed, 'Sum', day, 'Failed'),
          metric(METRIC_NAMES.releaseRolledBack, 'Sum', day, 'Rolled back'),
          metric(METRIC_NAMES.failureDirty, 'Sum', day, 'Failure dirty'),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Release duration (seconds)',
        width: 12,
        left: dailyPercentiles(METRIC_NAMES.releaseDuration),
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Time to healthy (seconds)',
        width: 8,
        left: dailyPercentiles(METRIC_NAMES.timeToHealthy),
      }),
      new cloudwatch.GraphWidget({
        title: 'Rollbacks',
        width: 8,
        left: [
          metric(METRIC_NAMES.releaseRolledBack, 'Sum', day, 'Rolled back'),
          metric(METRIC_NAMES.failureDirty, 'Sum', day, 'Rollback failed (dirty)'),
        ],
      }),
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        width: 8,
        alarms: [...this.alarms, ...(props.externalAlarms ?? [])],
      }),
    );
    const restore = props.restoreMetrics;
    const restoreWidgets: cloudwatch.IWidget[] = [
      ...(restore
        ? [
            new cloudwatch.GraphWidget({
              title: 'Restore RTO (seconds)',
              width: 8,
              left: [restore.restoreDuration],
            }),
            new cloudwatch.GraphWidget({
              title: 'Snapshot age at verification, RPO (seconds)',
              width: 8,
              left: [restore.snapshotAge],
              right: [restore.verificationFailed],
            }),
          ]
        : []),
      new cloudwatch.GraphWidget({
        title: 'Executions',
        width: 8,
        left: [
          release.metricSucceeded({ period: day, statistic: 'Sum', label: 'Release succeeded' }),
          release.metricFailed({ period: day, statistic: 'Sum', label: 'Release failed' }),
          ...(props.verifyRestoreStateMachine
            ? [
                props.verifyRestoreStateMachine.metricSucceeded({
                  period: day,
                  statistic: 'Sum',
                  label: 'Verification succeeded',
                }),
                props.verifyRestoreStateMachine.metricFailed({
                  period: day,
                  statistic: 'Sum',
                  label: 'Verification failed',
                }),
              ]
            : []),
        ],
      }),
    ];
    this.dashboard.addWidgets(...restoreWidgets);

    new CfnOutput(this, 'DashboardName', {
      value: this.dashboard.dashboardName,
      description: 'CloudWatch dashboard of releases and backups',
    }).overrideLogicalId('DashboardName');
  }
}
