import { Arn, ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { executionStatusRule } from './execution-status-rule.ts';
import { nagResource } from './nag-ids.ts';
import { StepFunction } from './step-function.ts';

/** Props of ReleaseNotifications. */
export interface ReleaseNotificationsProps {
  /** The release state machine whose executions are announced. */
  readonly releaseStateMachine: sfn.IStateMachine;
  /** The topic people subscribe to (created by the pipeline stack). */
  readonly topic: sns.ITopic;
  /** Addresses subscribed by email (each confirms once), from config. */
  readonly emailAddresses?: readonly string[];
  /**
   * Name of the release machine's own Task that publishes to the topic. When an execution
   * reached it successfully, the announcement was made and FormatNotification stays quiet,
   * so each release is announced exactly once (the rule still covers timeouts, aborts and
   * failures that never reached it).
   */
  readonly announcingStep?: string;
  /** Days to keep FormatNotification's logs. */
  readonly logRetention?: RetentionDays;
  /** `service` dimension of FormatNotification's metrics (see StepFunction). */
  readonly metricsService?: string;
}

/** Execution statuses that end a release. */
export const FINAL_STATUSES = ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const;

/**
 * Announces every finished release on the topic in words a person acts on: what was
 * released, by whom, the outcome, the failing step and reason, and a console link.
 */
export class ReleaseNotifications extends Construct {
  readonly rule: events.Rule;
  readonly formatter: StepFunction;

  constructor(scope: Construct, id: string, props: ReleaseNotificationsProps) {
    super(scope, id);
    this.formatter = new StepFunction(this, 'FormatNotification', {
      step: 'format-notification',
      description: 'Turns a finished release into a human-readable SNS message',
      environment: {
        TOPIC_ARN: props.topic.topicArn,
        ANNOUNCING_STEP: props.announcingStep ?? 'Notify',
      },
      logRetention: props.logRetention,
      metricsService: props.metricsService,
    });
    props.topic.grantPublish(this.formatter);
    // Only this machine's executions: the message is built from their history.
    const machineName = Arn.split(
      props.releaseStateMachine.stateMachineArn,
      ArnFormat.COLON_RESOURCE_NAME,
    ).resourceName;
    const executions = Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${machineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.formatter.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
        resources: [executions],
      }),
    );
    Validations.of(this.formatter).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason:
        "Publishing to a KMS-encrypted topic needs GenerateDataKey* on that topic's one key (grantPublish).",
    });
    Validations.of(this.formatter).acknowledge({
      id: `AwsSolutions-IAM5[${nagResource(this, executions)}]`,
      reason:
        'Execution names are not known in advance; the wildcard stays inside the release machine.',
    });

    this.rule = executionStatusRule(this, 'OnReleaseEnd', {
      description: 'Announce every finished release',
      stateMachine: props.releaseStateMachine,
      statuses: FINAL_STATUSES,
      target: this.formatter,
    });

    for (const address of props.emailAddresses ?? []) {
      props.topic.addSubscription(new subscriptions.EmailSubscription(address));
    }
  }
}
