import { readFileSync } from 'node:fs';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { placeholdersOf } from '#stack/constructs/asl.ts';
import { VerificationAlarms } from '#stack/constructs/verify-restore/alarms.ts';
import { ScratchCleanup } from '#stack/constructs/verify-restore/cleanup.ts';
import {
  VERIFY_RESTORE_ASL_PATH,
  VerifyRestoreMachine,
  type VerifyRestoreMachineProps,
} from '#stack/constructs/verify-restore/machine.ts';
import { ScratchRestore } from '#stack/constructs/verify-restore/restore.ts';
import { RestoreVerification } from '#stack/constructs/verify-restore/verify.ts';
import { importedParts, verifierVpc } from './verification-scaffold.ts';

type Statement = {
  Sid?: string;
  Action: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
  Resource: unknown;
};

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const arn = (service: string, resource: string) =>
  `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;

/** A stack with the application parts the verification parts take (bundling skipped). */
function scaffold() {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Parts', { env: { account: ACCOUNT, region: REGION } });
  const vpc = verifierVpc(stack);
  const verifier = new ec2.SecurityGroup(stack, 'Verifier', { vpc, description: 'verifier' });
  const { database, secret, cluster, taskDefinition } = importedParts(stack);
  const topic = sns.Topic.fromTopicArn(stack, 'Topic', arn('sns', 'test-pipeline'));
  const bucket = s3.Bucket.fromBucketName(stack, 'Manifests', 'test-manifests');
  return { app, stack, vpc, verifier, database, secret, cluster, taskDefinition, topic, bucket };
}

/** cdk-nag's findings on the given constructs (and everything below them). */
function findings(app: App, ...scopes: IConstruct[]): string[] {
  const checks = new AwsSolutionsChecks(app, { verbose: true });
  return scopes.flatMap((scope) =>
    checks
      .validateScope(scope)
      .violations.map(
        (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`,
      ),
  );
}

const fnProps = (template: Template, idPrefix: string) => {
  const [entry] = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) =>
    id.startsWith(idPrefix),
  );
  return entry?.[1].Properties as Record<string, unknown> & {
    Environment: { Variables: Record<string, unknown> };
  };
};

describe('ScratchRestore', () => {
  it('makes a scratch group only the verifier reaches, in isolated subnets, and PickSnapshot', () => {
    // Prepare
    const { app, stack, vpc, verifier, database } = scaffold();
    // Act
    const restore = new ScratchRestore(stack, {
      prefix: 'test',
      vpc,
      database,
      verifierSecurityGroup: verifier,
    });
    const template = Template.fromStack(stack);
    // Assess: created in the stack under the ids the one-file construct used.
    expect(stack.resolve(restore.securityGroup.securityGroupId)).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^ScratchSecurityGroup[0-9A-F]{8}$/), 'GroupId'],
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 3306,
      ToPort: 3306,
      SourceSecurityGroupId: stack.resolve(verifier.securityGroupId),
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'stepdeploy scratch databases: reachable only from the verifier group',
      // allowAllOutbound false: CDK's "no traffic" placeholder rule, nothing real.
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '255.255.255.255/32' })],
    });
    template.hasResourceProperties('AWS::RDS::DBSubnetGroup', {
      SubnetIds: vpc.isolatedSubnets.map((s) => stack.resolve(s.subnetId)),
    });
    const pick = fnProps(template, 'PickSnapshot');
    expect(pick.Timeout).toBe(60);
    expect(pick.VpcConfig).toBeUndefined();
    expect(pick.Environment.Variables).toMatchObject({
      DATABASE_INSTANCE_ID: 'test-wordpress',
      SCRATCH_PREFIX: 'test',
      SCRATCH_TTL_MINUTES: '360',
    });
    expect(findings(app, restore.pickSnapshot, restore.securityGroup, restore.subnetGroup)).toEqual(
      [],
    );
  });
});

describe('RestoreVerification', () => {
  it('runs VerifyData and VerifyApplication in the VPC with the verifier group, the others outside', () => {
    // Prepare
    const { app, stack, vpc, verifier, database, secret, cluster, taskDefinition, bucket } =
      scaffold();
    // Act
    const verify = new RestoreVerification(stack, {
      verifier: {
        vpc,
        subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        securityGroup: verifier,
      },
      database,
      databaseSecret: secret,
      databaseName: 'wordpress',
      tablePrefix: 'wp_',
      rowCountTolerance: 0.1,
      manifestBucket: bucket,
      manifestPrefix: 'manifests/',
      cluster,
      taskDefinition,
      verificationFamily: 'test-wordpress-verify',
      appPort: 8080,
      verificationSiteUrl: 'http://test-verify.invalid',
    });
    const template = Template.fromStack(stack);
    // Assess
    for (const id of ['VerifyData', 'VerifyApplication']) {
      expect(fnProps(template, id)).toMatchObject({
        Timeout: 300,
        MemorySize: 512,
        VpcConfig: { SecurityGroupIds: [stack.resolve(verifier.securityGroupId)] },
      });
    }
    for (const id of ['PublishMetrics', 'RegisterVerificationTaskDefinition']) {
      expect(fnProps(template, id)).toMatchObject({ Timeout: 60, MemorySize: 256 });
      expect(fnProps(template, id).VpcConfig).toBeUndefined();
    }
    expect(fnProps(template, 'VerifyData').Environment.Variables).toMatchObject({
      MANIFEST_BUCKET: 'test-manifests',
      MANIFEST_PREFIX: 'manifests/',
      LIVE_DATABASE_HOST: 'db.example.internal',
      ROW_COUNT_TOLERANCE: '0.1',
    });
    // VerifyApplication (verifier group) reaches the one-off task (verifier group) on the app port.
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 8080,
      ToPort: 8080,
      GroupId: stack.resolve(verifier.securityGroupId),
      SourceSecurityGroupId: stack.resolve(verifier.securityGroupId),
    });
    expect(
      findings(
        app,
        verify.verifyData,
        verify.verifyApplication,
        verify.publishMetrics,
        verify.registerVerificationTaskDefinition,
      ),
    ).toEqual([]);
  });
});

describe('ScratchCleanup', () => {
  it('invokes the sweeper hourly through a role only this account can hand to the scheduler', () => {
    // Prepare
    const { app, stack } = scaffold();
    // Act
    const cleanup = new ScratchCleanup(stack, { prefix: 'test' });
    const template = Template.fromStack(stack);
    // Assess
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 hour)',
      Target: Match.objectLike({
        Arn: stack.resolve(cleanup.sweeper.functionArn),
        RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }),
      }),
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
          }),
        ],
      },
    });
    expect(
      findings(app, cleanup.sweeper, cleanup.schedule, stack.node.findChild('SweeperScheduleRole')),
    ).toEqual([]);
  });
});

describe('VerifyRestoreMachine', () => {
  const build = (overrides: Partial<VerifyRestoreMachineProps> = {}) => {
    const parts = scaffold();
    const { stack } = parts;
    const fn = (name: string) =>
      lambda.Function.fromFunctionArn(stack, name, arn('lambda', `function:test-${name}`));
    const machine = new VerifyRestoreMachine(stack, {
      stateMachineName: 'test-verify-restore',
      functions: {
        pickSnapshot: fn('PickSnapshot'),
        verifyData: fn('VerifyData'),
        verifyApplication: fn('VerifyApplication'),
        publishMetrics: fn('PublishMetrics'),
        registerVerificationTaskDefinition: fn('RegisterVerificationTaskDefinition'),
      },
      scratchPrefix: 'test',
      scratchInstanceClass: 'db.t4g.micro',
      scratchSubnetGroup: rds.SubnetGroup.fromSubnetGroupName(stack, 'Scratch', 'test-scratch'),
      scratchSecurityGroup: ec2.SecurityGroup.fromSecurityGroupId(stack, 'ScratchSg', 'sg-0a1b'),
      restorePoll: { everySeconds: 30, timeout: Duration.hours(1) },
      applicationPoll: { everySeconds: 15, timeout: Duration.minutes(10) },
      cluster: parts.cluster,
      serviceName: 'test-wordpress',
      containerName: 'wordpress',
      taskDefinition: parts.taskDefinition,
      verificationFamily: 'test-wordpress-verify',
      verificationSiteUrl: 'http://test-verify.invalid',
      verifierSubnetIds: ['subnet-1', 'subnet-2'],
      taskSecurityGroups: [parts.verifier],
      topic: parts.topic,
      ...overrides,
    });
    const template = Template.fromStack(stack);
    const [resource] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    const [policy] = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([id]) => id.startsWith('StateMachineRoleDefaultPolicy'))
      .map(([, r]) => r);
    return {
      ...parts,
      machine,
      template,
      substitutions: resource?.Properties.DefinitionSubstitutions as Record<string, unknown>,
      definition: resource?.Properties.DefinitionString as string,
      statements: (policy?.Properties.PolicyDocument.Statement ?? []) as Statement[],
    };
  };

  it('loads the ASL inline and fills every placeholder it has, and no other', () => {
    // Prepare
    const asl = readFileSync(VERIFY_RESTORE_ASL_PATH, 'utf8');
    // Act
    const { substitutions, definition } = build();
    // Assess
    expect(definition).toBe(asl);
    expect(Object.keys(substitutions).sort()).toEqual(placeholdersOf(asl));
    expect(substitutions).toMatchObject({
      RestorePollSeconds: '30',
      RestoreMaxPolls: '120',
      ApplicationPollSeconds: '15',
      ApplicationMaxPolls: '40',
      ScratchSubnetGroupName: 'test-scratch',
      ScratchSecurityGroupId: 'sg-0a1b',
      VerifierSubnetIds: 'subnet-1,subnet-2',
      PickSnapshotFunctionArn: arn('lambda', 'function:test-PickSnapshot'),
    });
  });

  it('polls at least once, however short the timeout', () => {
    // Act
    const { substitutions } = build({
      restorePoll: { everySeconds: 30, timeout: Duration.seconds(10) },
    });
    // Assess
    expect(substitutions.RestoreMaxPolls).toBe('1');
  });

  it('grants the scratch instance and one-off task statements, in that order, and invokes only its steps', () => {
    // Act
    const { statements, stack, taskDefinition } = build();
    // Assess
    expect(statements.flatMap((s) => (s.Sid ? [s.Sid] : []))).toEqual([
      'RestoreOnlyTaggedScratch',
      'RestoreFromThisDatabasesSnapshots',
      'TagScratchOnCreate',
      'WatchScratch',
      'DeleteOnlyTaggedScratch',
      'FindCurrentRevision',
      'RunOneOffTask',
      'TagOneOffTask',
      'StopOneOffTask',
      'PassTaskRoles',
    ]);
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    expect(bySid.RunOneOffTask?.Resource).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          `:ecs:${REGION}:${ACCOUNT}:task-definition/test-wordpress-verify:*`,
        ],
      ],
    });
    expect(bySid.PassTaskRoles?.Resource).toEqual(
      stack.resolve([taskDefinition.taskRole.roleArn, taskDefinition.executionRole?.roleArn]),
    );
    const invoked = statements
      .filter((s) => s.Action === 'lambda:InvokeFunction')
      .flatMap((s) => s.Resource as string[]);
    expect(invoked.filter((r) => !r.endsWith(':*'))).toEqual(
      [
        'PickSnapshot',
        'VerifyData',
        'VerifyApplication',
        'PublishMetrics',
        'RegisterVerificationTaskDefinition',
      ].map((name) => arn('lambda', `function:test-${name}`)),
    );
  });

  it('has zero unacknowledged cdk-nag findings', () => {
    // Prepare
    const { app, machine } = build();
    // Act / Assess
    expect(findings(app, machine.stateMachine)).toEqual([]);
  });
});

describe('VerificationAlarms', () => {
  it("charts and alarms on PublishMetrics' metrics of this database, to the topic", () => {
    // Prepare
    const { stack, topic } = scaffold();
    // Act
    const alarms = new VerificationAlarms(stack, { databaseInstanceId: 'test-wordpress', topic });
    const template = Template.fromStack(stack);
    // Assess
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
    template.allResourcesProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'stepdeploy/BackupVerification',
      Dimensions: [{ Name: 'DatabaseInstance', Value: 'test-wordpress' }],
      AlarmActions: [topic.topicArn],
    });
    const charted = stack.resolve(alarms.metrics.restoreDuration.toMetricConfig());
    expect(charted.metricStat).toMatchObject({
      metricName: 'RestoreDurationSeconds',
      dimensions: [{ name: 'DatabaseInstance', value: 'test-wordpress' }],
    });
    expect(alarms.metrics.restoreDuration.toMetricConfig().metricStat?.period.toDays()).toBe(1);
  });
});
