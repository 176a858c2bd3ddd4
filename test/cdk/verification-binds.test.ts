import { App, type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { VERIFY_METRICS_NAMESPACE } from '#commons/metrics.ts';
import { rdsPattern } from '#stack/constructs/arn-patterns.ts';
import type { StepName } from '#stack/constructs/handler-environments.ts';
import { StepFunction, UndeclaredEnvironmentError } from '#stack/constructs/step-function.ts';
import { importedParts } from './verification-scaffold.ts';

type Statement = {
  Action: string | string[];
  Effect: string;
  Condition?: Record<string, Record<string, unknown>>;
  Resource: unknown;
};

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const XRAY = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'];

/** The application parts the verification binds take, imported (no resources of their own). */
function parts() {
  // Bundling skipped: the bundles are not what is tested.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Binds', { env: { account: ACCOUNT, region: REGION } });
  return { app, stack, ...importedParts(stack) };
}

/** One verification step, out of any VPC, as the verify-restore parts make it. */
function step<S extends StepName>(stack: Stack, id: string, folder: S): StepFunction<S> {
  return new StepFunction(stack, id, { step: folder, description: `test ${id}` });
}

/** The function's own policy statements, its environment and what cdk-nag finds on it. */
function synthesized(app: App, stack: Stack, fn: StepFunction) {
  const template = Template.fromStack(stack);
  const id = stack.getLogicalId(fn.node.defaultChild as CfnElement);
  const [policy] = Object.entries(template.findResources('AWS::IAM::Policy'))
    .filter(([policyId]) => policyId.startsWith(`${fn.node.id}ServiceRoleDefaultPolicy`))
    .map(([, resource]) => resource.Properties.PolicyDocument.Statement as Statement[]);
  const variables = template.findResources('AWS::Lambda::Function')[id]?.Properties.Environment
    .Variables as Record<string, unknown>;
  const report = new AwsSolutionsChecks(app, { verbose: true }).validateScope(fn);
  const findings = report.violations.map(
    (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`,
  );
  const acknowledged = fn.node.metadata
    .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((m) => Object.keys(m.data as Record<string, string>));
  const reasons = Object.fromEntries(
    fn.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>)),
  );
  return { statements: policy ?? [], variables, findings, acknowledged, reasons };
}

const own = (statements: Statement[]) =>
  statements.filter((s) => JSON.stringify(s.Action) !== JSON.stringify(XRAY));
/** The specific wildcard resources the function acknowledges (AwsSolutions-IAM5[Resource::…]). */
const wildcards = (acknowledged: string[]) =>
  [
    ...new Set(
      acknowledged.filter((id) => id.startsWith('Annotation::AwsSolutions-IAM5[Resource::arn')),
    ),
  ].sort();
const arn = (service: string, resource: string) =>
  `arn:<AWS::Partition>:${service}:${REGION}:${ACCOUNT}:${resource}`;
const partitioned = (service: string, resource: string) => ({
  'Fn::Join': [
    '',
    ['arn:', { Ref: 'AWS::Partition' }, `:${service}:${REGION}:${ACCOUNT}:${resource}`],
  ],
});

describe('StepFunction binds of the backup verification', () => {
  it("bindVerificationSnapshots: lists the database's snapshots and names the instance", () => {
    // Prepare
    const { app, stack, database } = parts();
    // Act
    const fn = step(stack, 'PickSnapshot', 'pick-snapshot').bindVerificationSnapshots(database);
    const { statements, variables, findings, acknowledged } = synthesized(app, stack, fn);
    // Assess
    expect(own(statements)).toEqual([
      {
        Action: 'rds:DescribeDBSnapshots',
        Effect: 'Allow',
        Resource: [partitioned('rds', 'db:test-wordpress'), partitioned('rds', 'snapshot:*')],
      },
    ]);
    expect(variables).toMatchObject({ DATABASE_INSTANCE_ID: 'test-wordpress' });
    expect(wildcards(acknowledged)).toEqual([
      `Annotation::AwsSolutions-IAM5[Resource::${arn('rds', 'snapshot:*')}]`,
    ]);
    expect(findings).toEqual([]);
  });

  it('bindScratchNaming: sets the scratch prefix and lifetime in minutes, and grants nothing', () => {
    // Prepare
    const { app, stack } = parts();
    // Act
    const fn = step(stack, 'PickSnapshot', 'pick-snapshot').bindScratchNaming(
      'test',
      Duration.hours(6),
    );
    const { statements, variables, findings } = synthesized(app, stack, fn);
    // Assess
    expect(own(statements)).toEqual([]);
    expect(variables).toMatchObject({ SCRATCH_PREFIX: 'test', SCRATCH_TTL_MINUTES: '360' });
    expect(findings).toEqual([]);
  });

  it('bindScratchInstances: lists every instance, deletes only named-and-tagged scratch ones', () => {
    // Prepare
    const { app, stack } = parts();
    // Act
    const fn = step(stack, 'Sweeper', 'sweep-scratch-instances').bindScratchInstances('Test');
    const { statements, variables, findings, acknowledged } = synthesized(app, stack, fn);
    // Assess: the name pattern is lower case, as RDS stores identifiers.
    expect(own(statements)).toEqual([
      {
        Action: 'rds:DescribeDBInstances',
        Effect: 'Allow',
        Resource: partitioned('rds', 'db:*'),
      },
      {
        Action: 'rds:DeleteDBInstance',
        Effect: 'Allow',
        Resource: partitioned('rds', 'db:test*-scratch-*'),
        Condition: { StringEquals: { 'aws:ResourceTag/stepdeploy:scratch': 'true' } },
      },
    ]);
    expect(Object.keys(variables).filter((name) => !name.startsWith('POWERTOOLS_'))).toEqual([
      'NODE_OPTIONS',
    ]);
    expect(wildcards(acknowledged)).toEqual(
      [
        `Annotation::AwsSolutions-IAM5[Resource::${arn('rds', 'db:*')}]`,
        `Annotation::AwsSolutions-IAM5[Resource::${arn('rds', 'db:test*-scratch-*')}]`,
      ].sort(),
    );
    expect(findings).toEqual([]);
  });

  it('bindVerificationDatabase and bindRowCountTolerance: the login by its secret, the live endpoint', () => {
    // Prepare
    const { app, stack, database, secret } = parts();
    // Act
    const fn = step(stack, 'VerifyData', 'verify-data')
      .bindVerificationDatabase(database, secret, 'wordpress', 'wp_')
      .bindRowCountTolerance(0.1);
    const { statements, variables, findings } = synthesized(app, stack, fn);
    // Assess: the password stays in Secrets Manager, never in the environment.
    expect(own(statements)).toEqual([
      {
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Effect: 'Allow',
        Resource: secret.secretArn,
      },
    ]);
    expect(variables).toMatchObject({
      DATABASE_SECRET_ARN: secret.secretArn,
      DATABASE_NAME: 'wordpress',
      LIVE_DATABASE_HOST: 'db.example.internal',
      LIVE_DATABASE_PORT: '3306',
      TABLE_PREFIX: 'wp_',
      ROW_COUNT_TOLERANCE: '0.1',
    });
    expect(variables).not.toHaveProperty('DATABASE_HOST');
    expect(findings).toEqual([]);
  });

  it("bindApplicationProbe: describes our cluster's tasks only, probes the verification host", () => {
    // Prepare
    const { app, stack, cluster } = parts();
    // Act
    const fn = step(stack, 'VerifyApplication', 'verify-application').bindApplicationProbe(
      cluster,
      8080,
      'test-verify.invalid',
    );
    const { statements, variables, findings } = synthesized(app, stack, fn);
    // Assess
    expect(own(statements)).toEqual([
      {
        Action: 'ecs:DescribeTasks',
        Effect: 'Allow',
        Resource: partitioned('ecs', 'task/*'),
        Condition: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
      },
    ]);
    expect(variables).toMatchObject({
      CLUSTER_ARN: cluster.clusterArn,
      APP_PORT: '8080',
      SITE_HOST: 'test-verify.invalid',
    });
    expect(findings).toEqual([]);
  });

  it('bindVerificationTaskDefinition: registers and passes the roles to ECS only, tags nothing', () => {
    // Prepare
    const { app, stack, taskDefinition } = parts();
    // Act
    const fn = step(
      stack,
      'RegisterVerification',
      'register-verification-task-definition',
    ).bindVerificationTaskDefinition(taskDefinition, 'test-wordpress-verify');
    const { statements, findings, reasons } = synthesized(app, stack, fn);
    // Assess
    expect(own(statements)).toEqual([
      {
        Action: ['ecs:DescribeTaskDefinition', 'ecs:RegisterTaskDefinition'],
        Effect: 'Allow',
        Resource: '*',
      },
      {
        Action: 'iam:PassRole',
        Effect: 'Allow',
        Resource: stack.resolve([
          taskDefinition.taskRole.roleArn,
          taskDefinition.executionRole?.roleArn,
        ]),
        Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      },
    ]);
    expect(JSON.stringify(statements)).not.toContain('ecs:TagResource');
    expect(reasons['Annotation::AwsSolutions-IAM5[Resource::*]']).toContain(
      'ecs:RegisterTaskDefinition accept no resource ARN (it registers revisions of test-wordpress-verify)',
    );
    expect(findings).toEqual([]);
  });

  it('bindVerificationMetrics: PutMetricData in the verification namespace only', () => {
    // Prepare
    const { app, stack, database } = parts();
    // Act
    const fn = step(stack, 'PublishMetrics', 'publish-metrics').bindVerificationMetrics(database);
    const { statements, variables, findings, reasons } = synthesized(app, stack, fn);
    // Assess
    expect(own(statements)).toEqual([
      {
        Action: 'cloudwatch:PutMetricData',
        Effect: 'Allow',
        Resource: '*',
        Condition: { StringEquals: { 'cloudwatch:namespace': VERIFY_METRICS_NAMESPACE } },
      },
    ]);
    expect(variables).toMatchObject({
      METRIC_NAMESPACE: VERIFY_METRICS_NAMESPACE,
      DATABASE_INSTANCE_ID: 'test-wordpress',
    });
    // The one Resource::* acknowledgement names every "*" statement: X-Ray and PutMetricData.
    expect(reasons['Annotation::AwsSolutions-IAM5[Resource::*]']).toMatch(
      /^X-Ray tracing .*; cloudwatch:PutMetricData has no resource type/,
    );
    expect(findings).toEqual([]);
  });

  it('finds the same wildcard granted raw, without the bind and its acknowledgement', () => {
    // Prepare: the statement bindVerificationSnapshots makes, added as the old construct did.
    const { app, stack, database } = parts();
    const fn = step(stack, 'PickSnapshot', 'pick-snapshot');
    // Act
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['rds:DescribeDBSnapshots'],
        resources: [database.instanceArn, stack.formatArn(rdsPattern('snapshot', '*'))],
      }),
    );
    const { findings } = synthesized(app, stack, fn);
    // Assess: the finding names the one wildcard the bind would have acknowledged.
    expect(findings).toEqual([`AwsSolutions-IAM5[Resource::${arn('rds', 'snapshot:*')}]: `]);
  });

  it('refuses a verification bind on a step whose handler does not read its variables', () => {
    // Prepare
    const { stack } = parts();
    const sweeper = step(stack, 'Sweeper', 'sweep-scratch-instances');
    // Act
    // @ts-expect-error SweepScratchInstances' handler declares no SCRATCH_PREFIX.
    const act = () => sweeper.bindScratchNaming('test', Duration.hours(6));
    // Assess
    expect(act).toThrow(UndeclaredEnvironmentError);
    expect(act).toThrow('functions/sweep-scratch-instances/env.ts declares no SCRATCH_PREFIX');
  });
});
