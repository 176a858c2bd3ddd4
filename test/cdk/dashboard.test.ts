import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CfnTemplate } from '#local/template.ts';
import { OperationsDashboard } from '#stack/constructs/dashboard.ts';
import { ReleaseNotifications } from '#stack/constructs/notifications.ts';
import { StepFunction } from '#stack/constructs/step-function.ts';
import { unpublishedMetrics } from './published-metrics.ts';

let app: App;
let template: Template;

beforeAll(() => {
  // Prepare: a real (trivial) release machine, an encrypted topic, notifications and dashboard.
  process.env.CDK_DOCKER ??= '/nonexistent';
  app = new App();
  const stack = new Stack(app, 'DashboardTest', {
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  const release = new sfn.StateMachine(stack, 'Release', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Noop')),
  });
  Validations.of(release).acknowledge({
    id: 'AwsSolutions-SF1',
    reason: 'Test-only Pass machine; the real one logs ALL events.',
  });
  Validations.of(release).acknowledge({
    id: 'AwsSolutions-SF2',
    reason: 'Test-only Pass machine; the real one is traced.',
  });
  const topic = new sns.Topic(stack, 'Topic', { enforceSSL: true });
  Validations.of(topic).acknowledge({
    id: 'AwsSolutions-SNS2',
    reason: 'Test-only topic; the pipeline stack encrypts its topic with KMS.',
  });
  new ReleaseNotifications(stack, 'Notifications', {
    releaseStateMachine: release,
    topic,
    emailAddresses: ['ops@example.com'],
  });
  // The step that emits the release metrics, with the defaults every step function gets.
  new StepFunction(stack, 'RecordRelease', { step: 'record-release', description: 'test' });
  new OperationsDashboard(stack, 'Operations', { releaseStateMachine: release, topic });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  // Act: synth runs cdk-nag 3, which throws on any unacknowledged finding.
  template = Template.fromStack(stack);
});

describe('ReleaseNotifications', () => {
  it('listens for the release machine finishing, whatever the outcome', () => {
    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'],
          stateMachineArn: [{ Ref: Match.stringLikeRegexp('^Release') }],
        },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('FormatNotification'), 'Arn'] },
        }),
      ],
    });
  });

  it('lets the formatter publish to the topic and read only the release machine', () => {
    // Assess
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sns:Publish',
            Resource: { Ref: Match.stringLikeRegexp('^Topic') },
          }),
          Match.objectLike({
            Action: ['states:DescribeExecution', 'states:GetExecutionHistory'],
            Resource: {
              'Fn::Join': [
                '',
                Match.arrayWith([
                  Match.stringLikeRegexp(':execution:$'),
                  {
                    'Fn::Select': [
                      6,
                      { 'Fn::Split': [':', { Ref: Match.stringLikeRegexp('^Release') }] },
                    ],
                  },
                  ':*',
                ]),
              ],
            },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          TOPIC_ARN: { Ref: Match.stringLikeRegexp('^Topic') },
          ANNOUNCING_STEP: 'Notify',
        }),
      },
    });
  });

  it('subscribes the configured email address', () => {
    // Assess
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: Match.stringLikeRegexp('^Topic') },
    });
  });
});

describe('OperationsDashboard', () => {
  it('alarms on any release that did not succeed, from the native execution metrics', () => {
    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Topic') }],
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'failed + timedOut + aborted' }),
        Match.objectLike({
          Id: 'failed',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ Namespace: 'AWS/States', MetricName: 'ExecutionsFailed' }),
          }),
        }),
      ]),
    });
  });

  it.each([['FailureDirty', 'Sum', 'GreaterThanOrEqualToThreshold', 'notBreaching']])(
    'alarms on %s (%s, %s, missing data %s)',
    (metricName, statistic, comparison, missing) => {
      // Assess
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'Stepdeploy',
        MetricName: metricName,
        Statistic: statistic,
        Dimensions: [{ Name: 'service', Value: 'stepdeploy' }],
        ComparisonOperator: comparison,
        TreatMissingData: missing,
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^Topic') }],
      });
    },
  );

  it('charts outcomes, duration percentiles, time to healthy, rollbacks, RTO and snapshot age', () => {
    // Assess: the dashboard body is a Fn::Join of strings; read the literal parts.
    const dashboards = template.findResources('AWS::CloudWatch::Dashboard');
    expect(Object.keys(dashboards)).toHaveLength(1);
    const body = JSON.stringify(Object.values(dashboards)[0]?.Properties.DashboardBody);
    for (const expected of [
      'Releases by outcome',
      'ReleaseSucceeded',
      'ReleaseFailed',
      'ReleaseRolledBack',
      'FailureDirty',
      'Release duration',
      '\\"stat\\":\\"p50\\"',
      '\\"stat\\":\\"p90\\"',
      'TimeToHealthy',
      'Rollbacks',
    ]) {
      expect(body).toContain(expected);
    }
    // Restore metrics come only from their publisher (restoreMetrics), none given here.
    expect(body).not.toContain('Restore RTO');
    template.hasOutput('DashboardName', {});
  });

  it('alarms and charts only metrics a step emits (namespace, name and dimensions)', () => {
    // Prepare
    const templates = { DashboardTest: template.toJSON() as CfnTemplate };
    // Act
    const unpublished = unpublishedMetrics(templates, 'DashboardTest');
    // Assess
    expect(unpublished).toEqual([]);
  });

  it('has no unacknowledged cdk-nag findings', () => {
    // Assess
    expect(() => app.synth({ force: true })).not.toThrow();
  });
});
