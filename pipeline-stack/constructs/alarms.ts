import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { AppConfig } from '../config.ts';

/** Props of {@link ApplicationAlarms}. */
export interface ApplicationAlarmsProps {
  readonly config: Pick<AppConfig, 'prefix' | 'alarmEmail'>;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly database: rds.DatabaseInstance;
}

/**
 * Operational alarms (unhealthy targets, 5xx, database CPU and storage), sent to an encrypted
 * topic when an alarm email is configured. Created in `scope` under the ids they always had
 * (see Network for why no Construct node of its own).
 */
export class ApplicationAlarms {
  readonly alarms: cloudwatch.Alarm[];
  /** Present when `alarmEmail` is configured. */
  readonly topic?: sns.Topic;

  constructor(scope: Construct, props: ApplicationAlarmsProps) {
    const { config, targetGroup, database } = props;
    this.alarms = [
      new cloudwatch.Alarm(scope, 'UnhealthyTargetsAlarm', {
        alarmDescription: 'A WordPress target has failed /healthz for 3 minutes',
        metric: targetGroup.metrics.unhealthyHostCount({
          period: Duration.minutes(1),
          statistic: 'Maximum',
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(scope, 'Target5xxAlarm', {
        alarmDescription: 'WordPress answered more than 10 server errors in 5 minutes',
        metric: targetGroup.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, {
          period: Duration.minutes(5),
          statistic: 'Sum',
        }),
        threshold: 10,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(scope, 'DatabaseCpuAlarm', {
        alarmDescription: 'Database CPU above 80% for 15 minutes',
        metric: database.metricCPUUtilization({ period: Duration.minutes(5) }),
        threshold: 80,
        evaluationPeriods: 3,
      }),
      new cloudwatch.Alarm(scope, 'DatabaseStorageAlarm', {
        alarmDescription: 'Database free storage below 2 GiB (autoscaling may be at its ceiling)',
        metric: database.metricFreeStorageSpace({ period: Duration.minutes(5) }),
        threshold: 2 * 1024 ** 3,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 1,
      }),
    ];
    if (config.alarmEmail === undefined) return;
    // A customer managed key: CloudWatch cannot publish to a topic under the AWS managed
    // SNS key, because that key's policy cannot be extended.
    const alarmKey = new kms.Key(scope, 'AlarmTopicKey', {
      description: 'Encrypts the stepdeploy application alarm topic',
      enableKeyRotation: true,
    });
    alarmKey.grant(
      new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
      'kms:Decrypt',
      'kms:GenerateDataKey*',
    );
    this.topic = new sns.Topic(scope, 'AlarmTopic', {
      displayName: `${config.prefix} application alarms`,
      masterKey: alarmKey,
      enforceSSL: true,
    });
    this.topic.addSubscription(new snsSubscriptions.EmailSubscription(config.alarmEmail));
    const action = new cloudwatchActions.SnsAction(this.topic);
    for (const alarm of this.alarms) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
  }
}
