import type { TaskDefinition } from '@aws-sdk/client-ecs';
import { App, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { verificationTaskDefinition } from '#commons/task-definition.ts';
import { cfnToSdk } from '#local/application.ts';
import { type CfnTemplate, definitionFromTemplate } from '#local/template.ts';
import { ApplicationStack, CONTAINER_NAME } from '#stack/application-stack.ts';
import { loadConfig } from '#stack/config.ts';
import { DEFAULT_VERIFY_SCHEDULE } from '#stack/constructs/verify-restore-state-machine.ts';
import { synthVerifyRestoreStack } from './verify-restore.fixture.ts';

type Statement = {
  Action: string | string[];
  Effect: string;
  Condition?: Record<string, Record<string, unknown>>;
  Resource: unknown;
};

let template: Template;
let json: CfnTemplate & {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
};

beforeAll(() => {
  // Prepare / Act: synth runs cdk-nag, which throws on any unacknowledged finding
  template = Template.fromStack(synthVerifyRestoreStack().stack);
  json = template.toJSON() as typeof json;
});

function logicalIds(type: string, match: RegExp): string[] {
  return Object.entries(json.Resources)
    .filter(([id, r]) => r.Type === type && match.test(id))
    .map(([id]) => id);
}

function statements(): { policy: string; statement: Statement }[] {
  return Object.entries(json.Resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
    .flatMap(([policy, r]) =>
      ((r.Properties.PolicyDocument as { Statement: Statement[] }).Statement ?? []).map(
        (statement) => ({ policy, statement }),
      ),
    );
}

const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('scratch instances can never be public', () => {
  it('restores with PubliclyAccessible false into the scratch subnet group and group', () => {
    // Prepare
    const definition = definitionFromTemplate({
      stack: 'VerifyRestoreTest',
      templates: { VerifyRestoreTest: json },
      match: 'verify',
    });
    const [subnetGroup] = logicalIds('AWS::RDS::DBSubnetGroup', /^VerifyRestoreScratchSubnetGroup/);
    const [scratchGroup] = logicalIds(
      'AWS::EC2::SecurityGroup',
      /^VerifyRestoreScratchSecurityGroup/,
    );
    // Act
    const params = (
      definition.States.RestoreScratchInstance as { Parameters: Record<string, unknown> }
    ).Parameters;
    // Assess
    expect(params.PubliclyAccessible).toBe(false);
    expect(params.DbInstanceClass).toBe('db.t4g.micro');
    const machine = Object.values(json.Resources).find(
      (r) => r.Type === 'AWS::StepFunctions::StateMachine',
    );
    expect(machine?.Properties.DefinitionSubstitutions).toMatchObject({
      ScratchSubnetGroupName: { Ref: subnetGroup },
      ScratchSecurityGroupId: { 'Fn::GetAtt': [scratchGroup, 'GroupId'] },
    });
    expect(params.VpcSecurityGroupIds).toHaveLength(1);
    expect(params.Tags).toContainEqual({ Key: 'stepdeploy:scratch', Value: 'true' });
  });

  it('places the subnet group only in isolated subnets (no route to the internet)', () => {
    // Prepare
    const isolated = logicalIds('AWS::EC2::Subnet', /^VpcdbSubnet/);
    // Act
    const groups = template.findResources('AWS::RDS::DBSubnetGroup');
    const scratch = Object.entries(groups).find(([id]) => id.startsWith('VerifyRestoreScratch'));
    // Assess
    expect(isolated.length).toBeGreaterThan(0);
    expect(scratch?.[1].Properties.SubnetIds).toEqual(isolated.map((id) => ({ Ref: id })));
    const routesViaGateway = Object.values(json.Resources).filter(
      (r) =>
        r.Type === 'AWS::EC2::Route' &&
        isolated.some((id) =>
          JSON.stringify(r.Properties.RouteTableId).includes(id.replace(/Subnet.*$/, '')),
        ),
    );
    expect(routesViaGateway).toEqual([]);
  });
});

describe('the verifier security group is the only way in', () => {
  it('admits MySQL from the verifier group and nothing else', () => {
    // Prepare
    const [scratchGroup] = logicalIds(
      'AWS::EC2::SecurityGroup',
      /^VerifyRestoreScratchSecurityGroup/,
    );
    const [verifier] = logicalIds('AWS::EC2::SecurityGroup', /^Verifier/);
    // Act
    const inline = (json.Resources[scratchGroup as string]?.Properties.SecurityGroupIngress ??
      []) as unknown[];
    const separate = Object.values(json.Resources).filter(
      (r) =>
        r.Type === 'AWS::EC2::SecurityGroupIngress' &&
        JSON.stringify(r.Properties.GroupId).includes(scratchGroup as string),
    );
    // Assess
    expect([...inline, ...separate.map((r) => r.Properties)]).toEqual([
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 3306,
        ToPort: 3306,
        SourceSecurityGroupId: { 'Fn::GetAtt': [verifier, 'GroupId'] },
      }),
    ]);
    expect(JSON.stringify(json.Resources[scratchGroup as string]?.Properties)).not.toContain(
      '0.0.0.0/0',
    );
  });

  it('runs VerifyData and VerifyApplication in the VPC with the verifier group', () => {
    // Prepare
    const [verifier] = logicalIds('AWS::EC2::SecurityGroup', /^Verifier/);
    // Act / Assess
    for (const name of ['VerifyData', 'VerifyApplication']) {
      template.hasResource('AWS::Lambda::Function', {
        Properties: Match.objectLike({
          VpcConfig: Match.objectLike({
            SecurityGroupIds: [{ 'Fn::GetAtt': [verifier, 'GroupId'] }],
          }),
        }),
      });
      expect(logicalIds('AWS::Lambda::Function', new RegExp(`^VerifyRestore${name}`))).toHaveLength(
        1,
      );
    }
  });
});

describe('IAM', () => {
  it('lets the sweeper delete only instances carrying the scratch tag', () => {
    // Prepare
    const [sweeperPolicy] = logicalIds(
      'AWS::IAM::Policy',
      /^VerifyRestoreSweepScratchInstancesServiceRoleDefaultPolicy/,
    );
    // Act
    const deletes = statements().filter(({ statement }) =>
      actions(statement).includes('rds:DeleteDBInstance'),
    );
    // Assess
    expect(deletes.map((d) => d.policy)).toContain(sweeperPolicy);
    for (const { statement } of deletes) {
      expect(statement.Condition).toEqual({
        StringEquals: { 'aws:ResourceTag/stepdeploy:scratch': 'true' },
      });
      expect(JSON.stringify(statement.Resource)).toContain('-scratch-*');
    }
  });

  it('refuses a restore that does not tag the new instance as scratch', () => {
    // Act
    const restores = statements().filter(
      ({ statement }) =>
        actions(statement).includes('rds:RestoreDBInstanceFromDBSnapshot') &&
        JSON.stringify(statement.Resource).includes(':db:'),
    );
    // Assess
    expect(restores).toHaveLength(1);
    expect(restores[0]?.statement.Condition).toEqual({
      StringEquals: { 'aws:RequestTag/stepdeploy:scratch': 'true' },
    });
  });

  it('passes the task roles only to ECS tasks', () => {
    // Act
    const passes = statements().filter(({ statement }) =>
      actions(statement).includes('iam:PassRole'),
    );
    // Assess
    expect(passes.length).toBeGreaterThan(0);
    for (const { statement } of passes) {
      expect(statement.Condition).toEqual({
        StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
      });
    }
  });
});

describe('schedule and alarms', () => {
  it('starts the verification daily by default', () => {
    // Assess
    expect(DEFAULT_VERIFY_SCHEDULE).toMatch(/^cron\(\d+ \d+ \* \* \? \*\)$/);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: DEFAULT_VERIFY_SCHEDULE,
      Target: Match.objectLike({
        Arn: { Ref: Match.stringLikeRegexp('^VerifyRestoreStateMachine') },
        Input: '{}',
      }),
    });
  });

  it('sweeps hourly', () => {
    // Assess
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 hour)',
      Target: Match.objectLike({
        Arn: {
          'Fn::GetAtt': [Match.stringLikeRegexp('^VerifyRestoreSweepScratchInstances'), 'Arn'],
        },
      }),
    });
  });

  it('alarms on a failed verification, on no success in 26 hours and on a slow restore', () => {
    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'VerificationFailed',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Topic') }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'VerificationSucceeded',
      Period: 3600,
      EvaluationPeriods: 26,
      DatapointsToAlarm: 26,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'RestoreDurationSeconds',
      Threshold: Duration.minutes(45).toSeconds(),
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('takes a configured cron, instance class and RTO threshold', () => {
    // Prepare
    const custom = Template.fromStack(
      synthVerifyRestoreStack({
        schedule: 'cron(0 5 ? * MON-FRI *)',
        rtoThreshold: Duration.minutes(20),
      }).stack,
    );
    // Assess
    custom.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 5 ? * MON-FRI *)',
    });
    custom.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'RestoreDurationSeconds',
      Threshold: 1200,
    });
  });
});

describe('the verification task is not the production task', () => {
  it('may run revisions of its own family only, never a production revision', () => {
    // Act
    const running = statements().filter(({ statement }) =>
      actions(statement).includes('ecs:RunTask'),
    );
    // Assess
    expect(running).toHaveLength(1);
    const resource = JSON.stringify(running[0]?.statement.Resource);
    expect(resource).toContain(':task-definition/test-wordpress-verify:*');
    expect(resource).not.toContain(':task-definition/test-wordpress:*');
  });

  it('registers its own revision first and runs that one with the scratch site URL', () => {
    // Prepare
    const definition = definitionFromTemplate({
      stack: 'VerifyRestoreTest',
      templates: { VerifyRestoreTest: json },
      match: 'verify',
    });
    const states = definition.States as Record<
      string,
      { Next?: string; Parameters?: Record<string, unknown> }
    >;
    // Act
    const register = states.RegisterVerificationTaskDefinition;
    const run = states.RunVerificationTask;
    // Assess
    expect(states.FindApplicationTaskDefinition?.Next).toBe('RegisterVerificationTaskDefinition');
    expect(register?.Parameters).toMatchObject({
      'taskDefinitionArn.$': '$.app.taskDefinition',
      containerName: 'wordpress',
      siteUrl: 'http://test-verify.invalid',
    });
    expect(register?.Next).toBe('RunVerificationTask');
    expect(run?.Parameters?.['TaskDefinition.$']).toBe('$.app.verification.taskDefinitionArn');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SITE_HOST: 'test-verify.invalid' }) },
    });
  });

  it('derives from the synthesized production task definition a revision without the live uploads or URL', () => {
    // Prepare: the application stack's task definition, in the shape DescribeTaskDefinition returns
    const app = new App({ context: { image: '127.0.0.1:5000/wordpress@sha256:'.padEnd(96, 'a') } });
    const config = loadConfig(app, {});
    const application = new ApplicationStack(app, 'VerifyTaskSource', {
      env: { account: '123456789012', region: config.region },
      config,
    });
    const [cfn] = Object.values(
      Template.fromStack(application).findResources('AWS::ECS::TaskDefinition'),
    );
    const production = cfnToSdk(cfn?.Properties) as TaskDefinition;
    const liveUploads = production.volumes?.find((v) => v.efsVolumeConfiguration);
    // Act
    const verification = verificationTaskDefinition(
      { taskDefinition: production },
      CONTAINER_NAME,
      'http://stepdeploy-verify.invalid',
    );
    // Assess
    expect(liveUploads?.name).toBeDefined();
    expect(verification.family).toBe(`${production.family}-verify`);
    expect(verification.volumes?.find((v) => v.name === liveUploads?.name)).toEqual({
      name: liveUploads?.name,
    });
    expect(JSON.stringify(verification)).not.toMatch(/efsVolumeConfiguration|fileSystemId/);
    const container = verification.containerDefinitions?.find((c) => c.name === CONTAINER_NAME);
    const site = container?.environment?.filter((e) => e.name === 'WORDPRESS_SITE_URL');
    expect(site).toEqual([
      { name: 'WORDPRESS_SITE_URL', value: 'http://stepdeploy-verify.invalid' },
    ]);
    const original = production.containerDefinitions?.find((c) => c.name === CONTAINER_NAME);
    expect(container).toMatchObject({
      image: original?.image,
      user: original?.user,
      readonlyRootFilesystem: true,
      secrets: original?.secrets,
      mountPoints: original?.mountPoints,
    });
  });
});
