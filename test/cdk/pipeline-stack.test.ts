import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '#stack/config.ts';
import { placeholdersOf } from '#stack/constructs/asl.ts';
import { METRICS_NAMESPACE } from '#stack/constructs/dashboard.ts';
import { buildApp, pipelineTemplate } from '#testkit/synthesized.ts';
import { STACK_OUTPUTS } from '../../cli/aws.ts';

type Statement = {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

// Actions whose API accepts no resource ARN, so '*' is the only possible Resource.
const STAR_ONLY: Record<string, string> = {
  'xray:PutTraceSegments': 'X-Ray tracing',
  'xray:PutTelemetryRecords': 'X-Ray tracing',
  'xray:GetSamplingRules': 'X-Ray tracing',
  'xray:GetSamplingTargets': 'X-Ray tracing',
  'ecs:DescribeTaskDefinition': 'no resource-level permissions',
  'ecs:RegisterTaskDefinition': 'no resource-level permissions',
  'ecs:ListTasks': 'no resource type; scoped by the ecs:cluster condition',
  'elasticloadbalancing:DescribeTargetHealth': 'ELB Describe* has no resource-level permissions',
  'elasticloadbalancing:DescribeTargetGroups': 'ELB Describe* has no resource-level permissions',
  'elasticloadbalancing:DescribeTargetGroupAttributes':
    'ELB Describe* has no resource-level permissions',
  'ecr:GetAuthorizationToken': 'registry-wide token',
  'logs:CreateLogDelivery': 'Step Functions log delivery',
  'logs:GetLogDelivery': 'Step Functions log delivery',
  'logs:UpdateLogDelivery': 'Step Functions log delivery',
  'logs:DeleteLogDelivery': 'Step Functions log delivery',
  'logs:ListLogDeliveries': 'Step Functions log delivery',
  'logs:PutResourcePolicy': 'Step Functions log delivery',
  'logs:DescribeResourcePolicies': 'Step Functions log delivery',
  'logs:DescribeLogGroups': 'Step Functions log delivery',
  'cloudwatch:PutMetricData': 'no resource type; scoped by the cloudwatch:namespace condition',
};

let template: Template;
let built: ReturnType<typeof pipelineTemplate>['built'];
beforeAll(() => {
  ({ template, built } = pipelineTemplate());
}, 120_000);

const statements = (): Array<{ policy: string; statement: Statement }> =>
  Object.entries(template.findResources('AWS::IAM::Policy')).flatMap(([policy, resource]) =>
    (resource.Properties.PolicyDocument.Statement as Statement[]).map((statement) => ({
      policy,
      statement,
    })),
  );
const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** The ECS statements of a function's policies: exactly ListTasks and StopTask, in our cluster. */
function expectTaskStopperGrants(policyPrefix: string) {
  const ecs = statements()
    .filter(({ policy }) => policy.startsWith(policyPrefix))
    .map(({ statement }) => statement)
    .filter((statement) => list(statement.Action).some((a) => a.startsWith('ecs:')));
  expect(ecs.flatMap((statement) => list(statement.Action)).sort()).toEqual([
    'ecs:ListTasks',
    'ecs:StopTask',
  ]);
  for (const statement of ecs)
    expect(statement).toMatchObject({
      Condition: { ArnEquals: { 'ecs:cluster': expect.anything() } },
    });
}

describe('PipelineStack', () => {
  it('uses "*" resources only for actions that cannot be scoped', () => {
    // Prepare
    const all = statements();
    // Act
    const offending = all.flatMap(({ policy, statement }) =>
      list(statement.Resource).includes('*')
        ? list(statement.Action)
            .filter((action) => !(action in STAR_ONLY))
            .map((action) => `${policy}: ${action}`)
        : [],
    );
    // Assess
    expect(all.length).toBeGreaterThan(15);
    expect(offending).toEqual([]);
  });

  it('scopes ListTasks and DescribeTasks to the cluster by condition', () => {
    // Prepare / Act
    const scoped = statements().filter(({ statement }) =>
      list(statement.Action).some((a) => a === 'ecs:ListTasks' || a === 'ecs:DescribeTasks'),
    );
    // Assess
    expect(scoped.length).toBeGreaterThanOrEqual(4);
    for (const { statement } of scoped) {
      expect(statement.Condition?.ArnEquals?.['ecs:cluster']).toBeDefined();
    }
  });

  it('passes only the task and execution roles, only to ECS tasks', () => {
    // Prepare
    const passRole = statements().filter(({ statement }) =>
      list(statement.Action).includes('iam:PassRole'),
    );
    // Act
    const resources = passRole.flatMap(({ statement }) => list(statement.Resource));
    // Assess: RegisterTaskDefinition, the release machine's InstallWordPress task, the
    // verification's own task definition and the verify-restore machine's one-off task
    expect(passRole.map(({ policy }) => policy).sort()).toEqual([
      expect.stringMatching(/^RegisterTaskDefinition/),
      expect.stringMatching(/^ReleaseStateMachineRole/),
      expect.stringMatching(/^VerifyRestoreRegisterVerificationTaskDefinition/),
      expect.stringMatching(/^VerifyRestoreStateMachineRole/),
    ]);
    for (const { statement } of passRole) {
      expect(statement.Condition).toEqual({
        StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
      });
      expect(list(statement.Resource)).toHaveLength(2);
    }
    expect(resources).not.toContain('*');
    expect(JSON.stringify(resources)).toMatch(/TaskRole/);
    expect(JSON.stringify(resources)).toMatch(/ExecutionRole/);
  });

  it('lets the release machine run only one-off tasks of the WordPress family, in its cluster', () => {
    // Prepare
    const release = statements().filter(({ policy }) =>
      policy.startsWith('ReleaseStateMachineRole'),
    );
    const withAction = (action: string) =>
      release.filter(({ statement }) => list(statement.Action).includes(action));
    // Act
    const [run] = withAction('ecs:RunTask');
    const [watch] = withAction('ecs:DescribeTasks');
    const [pass] = withAction('iam:PassRole');
    const [rule] = withAction('events:PutRule');
    const ruleNames = withAction('events:PutRule').map(({ statement }) =>
      JSON.stringify(statement.Resource),
    );
    // Assess
    expect(withAction('ecs:RunTask')).toHaveLength(1);
    expect(JSON.stringify(run?.statement.Resource)).toContain(
      ':task-definition/stepdeploy-wordpress:*',
    );
    expect(run?.statement.Condition?.ArnEquals?.['ecs:cluster']).toBeDefined();
    expect(list(watch?.statement.Action).sort()).toEqual(['ecs:DescribeTasks', 'ecs:StopTask']);
    expect(watch?.statement.Condition?.ArnEquals?.['ecs:cluster']).toBeDefined();
    expect(JSON.stringify(pass?.statement.Resource)).toMatch(
      /TaskDefinitionTaskRole.*TaskDefinitionExecutionRole/,
    );
    expect(rule).toBeDefined();
    expect(ruleNames.some((r) => r.includes('StepFunctionsGetEventsForECSTaskRule'))).toBe(true);
    expect(withAction('ecs:UpdateService')).toEqual([]);
  });

  it('lets the state machine run only its own build, topic, functions and release snapshots', () => {
    // Prepare
    const all = statements();
    const resourcesOf = (action: string) =>
      JSON.stringify(
        all
          .filter(({ statement }) => list(statement.Action).includes(action))
          .map(({ statement }) => statement.Resource),
      );
    // Act
    const snapshot = resourcesOf('rds:CreateDBSnapshot');
    const describe = resourcesOf('rds:DescribeDBSnapshots');
    const build = resourcesOf('codebuild:StartBuild');
    const publish = all
      .filter(({ statement }) => list(statement.Action).includes('sns:Publish'))
      .map(({ statement }) => JSON.stringify(statement.Resource));
    const invoke = all.find(
      ({ policy, statement }) =>
        policy.startsWith('ReleaseStateMachine') &&
        list(statement.Action).includes('lambda:InvokeFunction'),
    );
    // Assess
    expect(snapshot).toMatch(/:db:","?\{?"?Fn::ImportValue/);
    expect(snapshot).toContain(':snapshot:stepdeploy-release-*');
    expect(describe).toContain(':snapshot:stepdeploy-release-*');
    expect(build).toMatch(/^\[\{"Fn::GetAtt":\["ImageBuild[0-9A-F]+","Arn"\]\}\]$/);
    // The release machine, the verify-restore machine, FormatNotification and StartRelease
    // (announces skipped pushes): one topic.
    expect(publish).toHaveLength(4);
    for (const resource of publish)
      expect(resource).toMatch(/^\{"Ref":"Notifications[0-9A-F]+"\}$/);
    expect(list(invoke?.statement.Resource)).toHaveLength(15);
    expect(JSON.stringify(invoke?.statement.Resource)).not.toContain(':*');
  });

  it('keeps the release definition inline with every placeholder filled', () => {
    // Prepare
    const machines = template.findResources('AWS::StepFunctions::StateMachine', {
      Properties: { StateMachineName: 'stepdeploy-release' },
    });
    const machine = Object.values(machines)[0];
    // Act
    const body = machine?.Properties.DefinitionString as string;
    const substitutions = Object.keys(machine?.Properties.DefinitionSubstitutions ?? {});
    // Assess
    expect(typeof body).toBe('string');
    expect(machine?.Properties.DefinitionS3Location).toBeUndefined();
    expect(placeholdersOf(body)).toEqual([...substitutions].sort());
    expect(placeholdersOf(body)).toHaveLength(34);
    expect(machine?.Properties.TracingConfiguration).toEqual({ Enabled: true });
    expect(machine?.Properties.LoggingConfiguration).toMatchObject({
      Level: 'ALL',
      IncludeExecutionData: false,
    });
  });

  it('keeps the ledger and the lock in encrypted tables with point-in-time recovery', () => {
    // Prepare / Act / Assess
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'service', KeyType: 'HASH' },
        { AttributeName: 'releaseId', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'byGoodAt' })],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'service', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('encrypts the topic with KMS and refuses plain HTTP publishers', () => {
    // Prepare / Act / Assess
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('builds in privileged CodeBuild from buildspec/buildspec.yml and pushes only to the app repository', () => {
    // Prepare / Act / Assess
    template.hasResourceProperties('AWS::CodeBuild::Project', {
      Environment: Match.objectLike({ PrivilegedMode: true }),
      Source: Match.objectLike({
        Type: 'CODECOMMIT',
        BuildSpec: Match.stringLikeRegexp('version: "?0\\.2"?'),
      }),
      SecondarySources: [Match.objectLike({ Type: 'S3', SourceIdentifier: 'build' })],
      EncryptionKey: Match.anyValue(),
    });
    const push = statements().filter(({ statement }) =>
      list(statement.Action).includes('ecr:PutImage'),
    );
    expect(push).toHaveLength(1);
    expect(JSON.stringify(push[0]?.statement.Resource)).toMatch(/ImportValue.*Repository/);
  });

  it('gives every Lambda of the stack the same runtime, architecture and defaults', () => {
    // Prepare
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    const logGroups = template.findResources('AWS::Logs::LogGroup');
    // Act
    const props = functions.map((f) => f.Properties);
    // Assess: 15 release steps, StartRelease, FormatNotification, FreeAbandonedLock, 6
    // verify-restore functions
    expect(props).toHaveLength(24);
    expect(new Set(props.map((p) => `${p.Runtime}/${p.Architectures}`))).toEqual(
      new Set(['nodejs22.x/arm64']),
    );
    for (const p of props) {
      expect(p).toMatchObject({
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: expect.any(String) } },
      });
      expect(p.Environment.Variables).toMatchObject({
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_SERVICE_NAME: 'stepdeploy',
      });
      expect(logGroups[p.LoggingConfig.LogGroup.Ref]?.Properties.RetentionInDays).toBe(30);
    }
  });

  it('charts and alarms on the namespace and service dimension the functions publish with', () => {
    // Prepare / Act
    const alarm = Object.values(template.findResources('AWS::CloudWatch::Alarm')).find(
      (a) => a.Properties.MetricName === 'FailureDirty',
    );
    // Assess
    expect(alarm?.Properties).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      Dimensions: [{ Name: 'service', Value: 'stepdeploy' }],
    });
  });

  it('has one source repository and one versioned source bucket, which CodeBuild and the triggers share', () => {
    // Prepare
    const [repository] = Object.keys(template.findResources('AWS::CodeCommit::Repository'));
    const versioned = Object.keys(
      template.findResources('AWS::S3::Bucket', {
        Properties: { VersioningConfiguration: { Status: 'Enabled' } },
      }),
    );
    const [bucket] = versioned;
    // Act
    const rules = Object.values(template.findResources('AWS::Events::Rule'));
    const push = rules.find((r) => r.Properties.EventPattern?.source?.[0] === 'aws.codecommit');
    const upload = rules.find((r) => r.Properties.EventPattern?.source?.[0] === 'aws.s3');
    const reads = statements().filter(
      ({ policy, statement }) =>
        policy.startsWith('ImageBuild') && list(statement.Action).includes('s3:GetObject*'),
    );
    // Assess
    template.resourceCountIs('AWS::CodeCommit::Repository', 1);
    template.hasResourceProperties('AWS::CodeCommit::Repository', {
      RepositoryName: 'stepdeploy-source',
    });
    expect(versioned).toHaveLength(1);
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } },
    });
    expect(push?.Properties.EventPattern.resources).toEqual([
      { 'Fn::GetAtt': [repository, 'Arn'] },
    ]);
    expect(push?.Properties.EventPattern.detail.referenceName).toEqual(['main']);
    expect(upload?.Properties.EventPattern.detail).toEqual({
      bucket: { name: [{ Ref: bucket }] },
      object: { key: [{ wildcard: 'releases/*.zip' }] },
    });
    template.hasResourceProperties('AWS::CodeBuild::Project', {
      Source: Match.objectLike({
        Type: 'CODECOMMIT',
        Location: { 'Fn::GetAtt': [repository, 'CloneUrlHttp'] },
      }),
    });
    // The source bucket, and of the assets bucket only the build definition's one object.
    const resources = reads.map(({ statement }) => JSON.stringify(statement.Resource));
    expect(resources).toHaveLength(2);
    expect(resources).toContain(
      JSON.stringify([
        { 'Fn::GetAtt': [bucket, 'Arn'] },
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/*']] },
      ]),
    );
    expect(resources.find((r) => r.includes('cdk-hnb659fds-assets'))).toMatch(
      /assets-[^"]*"\]\]\},\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},":s3:::cdk-hnb659fds-assets-[^/]+\/[0-9a-f]{64}\.zip"\]\]\}\]$/,
    );
  });

  it('lets the triggers start the release machine only, and nothing else start it', () => {
    // Prepare
    const [release] = Object.keys(
      template.findResources('AWS::StepFunctions::StateMachine', {
        Properties: { StateMachineName: 'stepdeploy-release' },
      }),
    );
    const [starter] = Object.keys(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Environment: { Variables: { RELEASE_STATE_MACHINE_ARN: Match.anyValue() } } },
      }),
    );
    // Act
    const starts = statements().filter(({ statement }) =>
      list(statement.Action).includes('states:StartExecution'),
    );
    const triggerRules = Object.values(template.findResources('AWS::Events::Rule')).filter((r) =>
      ['aws.codecommit', 'aws.s3'].includes(r.Properties.EventPattern?.source?.[0]),
    );
    // Assess
    expect(triggerRules).toHaveLength(2);
    for (const rule of triggerRules) {
      expect(rule.Properties.Targets).toEqual([
        expect.objectContaining({ Arn: { 'Fn::GetAtt': [starter, 'Arn'] } }),
      ]);
    }
    const startsRelease = starts.filter(({ statement }) =>
      JSON.stringify(statement.Resource).includes(release as string),
    );
    expect(startsRelease).toEqual([
      {
        policy: expect.stringMatching(/^TriggersStartRelease/),
        statement: expect.objectContaining({ Resource: { Ref: release } }),
      },
    ]);
    const fromTriggers = starts.filter(({ policy }) => policy.startsWith('TriggersStartRelease'));
    expect(fromTriggers).toHaveLength(1);
  });

  it('announces every finished release of the release machine, except what Notify announced', () => {
    // Prepare / Act / Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        source: ['aws.states'],
        detail: Match.objectLike({
          stateMachineArn: [{ Ref: Match.stringLikeRegexp('^ReleaseStateMachine') }],
        }),
      }),
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          ANNOUNCING_STEP: 'Notify',
          TOPIC_ARN: { Ref: Match.stringLikeRegexp('^Notifications') },
        }),
      },
    });
  });

  it('frees the lock of a release that ended without its ReleaseLock, with DeleteItem only, and stops its trial task', () => {
    // Prepare
    const [lockTable] = Object.keys(
      template.findResources('AWS::DynamoDB::Table', {
        Properties: { KeySchema: [{ AttributeName: 'service', KeyType: 'HASH' }] },
      }),
    );
    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: {
        Environment: { Variables: Match.objectLike({ SERVICE_NAME: Match.anyValue() }) },
      },
    });
    // Act
    const [freer] = Object.keys(functions);
    const grants = statements().filter(({ policy }) => policy.startsWith('AbandonedLocks'));
    // Assess
    expect(Object.keys(functions)).toHaveLength(1);
    expect(functions[freer as string]?.Properties.Environment.Variables.LOCK_TABLE_NAME).toEqual({
      Ref: lockTable,
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          status: ['ABORTED', 'TIMED_OUT', 'FAILED'],
          stateMachineArn: [{ Ref: Match.stringLikeRegexp('^ReleaseStateMachine') }],
        },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [freer, 'Arn'] } })],
    });
    const dynamo = grants.filter(({ statement }) =>
      list(statement.Action).some((a) => a.startsWith('dynamodb:')),
    );
    expect(dynamo.map(({ statement }) => statement)).toEqual([
      expect.objectContaining({
        Action: 'dynamodb:DeleteItem',
        Resource: { 'Fn::GetAtt': [lockTable, 'Arn'] },
      }),
    ]);
    // ...and stops the trial task it left, in our cluster only: ListTasks and StopTask, no more.
    expectTaskStopperGrants('AbandonedLocks');
    expect(functions[freer as string]?.Properties.Environment.Variables.CLUSTER_ARN).toBeDefined();
  });

  it('lets ReleaseLock stop a trial task its release left, in our cluster only', () => {
    // Prepare
    const [releaseLock] = Object.entries(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('^Free the release lock this release') },
      }),
    );
    // Act / Assess
    expectTaskStopperGrants('ReleaseLock');
    expect(releaseLock?.[1].Properties.Environment.Variables).toMatchObject({
      CLUSTER_ARN: expect.anything(),
      LOCK_TABLE_NAME: expect.anything(),
    });
  });

  it('keeps snapshot manifests in an encrypted, private, SSL-only bucket VerifyData reads', () => {
    // Prepare
    const [manifests] = Object.keys(
      template.findResources('AWS::S3::Bucket', {
        Properties: { LoggingConfiguration: { LogFilePrefix: 'snapshot-manifests/' } },
      }),
    );
    // Act / Assess
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: Match.anyValue(),
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { LogFilePrefix: 'snapshot-manifests/' },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: manifests },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MANIFEST_BUCKET: { Ref: manifests } }) },
      VpcConfig: Match.anyValue(),
    });
  });

  it('wires the verify-restore alarms, metrics and the trigger dead letters into the dashboard', () => {
    // Prepare
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    // Act
    const body = JSON.stringify(dashboards[0]?.Properties.DashboardBody);
    // Assess
    expect(dashboards).toHaveLength(1);
    for (const expected of [
      'stepdeploy/BackupVerification',
      'RestoreDurationSeconds',
      'SnapshotAgeSeconds',
      'VerifyRestoreVerificationFailedAlarm',
      'VerifyRestoreNoRecentSuccessAlarm',
      'VerifyRestoreRtoAboveThresholdAlarm',
      'OperationsTriggerDeadLettersAlarm',
    ]) {
      expect(body).toContain(expected);
    }
    // Only the verify-restore construct's restore alarms, not a second set from the dashboard.
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
  });

  it('publishes every stack output the command line reads', () => {
    // Prepare
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    // Act
    const missing = Object.values(STACK_OUTPUTS).filter((key) => !(key in outputs));
    // Assess
    expect(missing).toEqual([]);
    expect(outputs.ReleaseStateMachineArn?.Value).toEqual({
      Ref: expect.stringMatching(/^ReleaseStateMachine/),
    });
    expect(outputs.VerifyRestoreStateMachineArn?.Value).toEqual({
      Ref: expect.stringMatching(/^VerifyRestoreStateMachine/),
    });
    expect(outputs.LedgerTableName?.Value).toEqual({ Ref: expect.stringMatching(/^Ledger/) });
    expect(outputs.BuildProjectName?.Value).toEqual({ Ref: expect.stringMatching(/^ImageBuild/) });
    expect(outputs.NotificationTopicArn?.Value).toEqual({
      Ref: expect.stringMatching(/^Notifications/),
    });
    expect(JSON.stringify(outputs.ServiceName?.Value)).toMatch(/Fn::ImportValue.*Service/);
  });

  it('lets CloudWatch alarms use the topic key', () => {
    // Prepare / Act / Assess
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
  });

  it('has zero unacknowledged cdk-nag findings', () => {
    // Prepare
    const checks = new AwsSolutionsChecks(built.app, { verbose: true });
    // Act
    const report = checks.validateScope(built.pipeline);
    // Assess
    expect(
      report.violations.map(
        (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`,
      ),
    ).toEqual([]);
  });
});

describe('PipelineStack with config', () => {
  let configured: Template;
  beforeAll(() => {
    // Prepare: an existing repository by name, another branch and prefix, two addresses
    const { pipeline } = buildApp({
      sourceRepositoryName: 'existing-site',
      sourceBranch: 'release',
      releasePrefix: 'drops/',
      notificationEmails: 'ops@example.com, dev@example.com',
    });
    // Act
    configured = Template.fromStack(pipeline);
  }, 120_000);

  it('builds from and triggers on the existing repository instead of creating one', () => {
    // Assess
    configured.resourceCountIs('AWS::CodeCommit::Repository', 0);
    configured.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        source: ['aws.codecommit'],
        resources: [
          Match.objectLike({
            'Fn::Join': [
              '',
              Match.arrayWith([Match.stringLikeRegexp(':codecommit:.*:existing-site$')]),
            ],
          }),
        ],
        detail: Match.objectLike({ referenceName: ['release'] }),
      }),
    });
    configured.hasOutput('SourceRepositoryName', { Value: 'existing-site' });
  });

  it('starts releases from the configured prefix', () => {
    // Assess
    configured.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        source: ['aws.s3'],
        detail: Match.objectLike({ object: { key: [{ wildcard: 'drops/*.zip' }] } }),
      }),
    });
  });

  it('subscribes each configured address to the notifications topic', () => {
    // Assess
    for (const endpoint of ['ops@example.com', 'dev@example.com']) {
      configured.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: endpoint,
        TopicArn: { Ref: Match.stringLikeRegexp('^Notifications') },
      });
    }
    configured.resourceCountIs('AWS::SNS::Subscription', 2);
  });
});

/** Statements of the policies attached to the role of the Lambda whose environment has `marker`. */
/** A function found by an environment variable it alone has, or by its logical id. */
function functionRole(tpl: Template, marker: string | RegExp) {
  const [id, fn] =
    Object.entries(tpl.findResources('AWS::Lambda::Function')).find(([logicalId, f]) =>
      typeof marker === 'string'
        ? marker in (f.Properties.Environment?.Variables ?? {})
        : marker.test(logicalId),
    ) ?? [];
  const role = fn?.Properties.Role['Fn::GetAtt'][0] as string;
  const policies = Object.values(tpl.findResources('AWS::IAM::Policy')).filter((p) =>
    (p.Properties.Roles as unknown[]).some(
      (r) => JSON.stringify(r) === JSON.stringify({ Ref: role }),
    ),
  );
  return {
    id: id as string,
    properties: fn?.Properties,
    statements: policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]),
  };
}

/** Statements of the release state machine's role policies. */
function releaseRoleStatements(tpl: Template): Statement[] {
  return Object.entries(tpl.findResources('AWS::IAM::Policy'))
    .filter(([id]) => id.startsWith('ReleaseStateMachineRole'))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const RECORD_MANIFEST = /^RecordSnapshotManifest[0-9A-F]{8}$/;
const COMPARE_SCHEMA = /^CompareSchema[0-9A-F]{8}$/;

describe('RecordSnapshotManifest', () => {
  it('runs in the VPC with the verifier security group, as VerifyData does', () => {
    // Prepare
    const manifest = functionRole(template, RECORD_MANIFEST);
    const verifyData = functionRole(template, 'LIVE_DATABASE_HOST');
    // Act
    const groups = manifest.properties?.VpcConfig?.SecurityGroupIds;
    // Assess
    expect(manifest.properties?.Environment.Variables).toMatchObject({
      MANIFEST_PREFIX: 'manifests/',
      DATABASE_NAME: 'wordpress',
      DATABASE_SECRET_ARN: expect.anything(),
      // db_version is read from <prefix>options: the image's default, as VerifyData's.
      TABLE_PREFIX: verifyData.properties?.Environment.Variables.TABLE_PREFIX,
    });
    expect(manifest.properties?.Environment.Variables.DATABASE_PASSWORD).toBeUndefined();
    expect(groups).toHaveLength(1);
    expect(JSON.stringify(groups)).toMatch(/VerifierSecurityGroup/);
    expect(groups).toEqual(verifyData.properties?.VpcConfig?.SecurityGroupIds);
    expect(JSON.stringify(manifest.properties?.VpcConfig?.SubnetIds)).toMatch(/app/i);
  });

  it('writes and reads only manifests/ in the manifest bucket, and reads only the database secret', () => {
    // Prepare
    const [bucket] = Object.keys(
      template.findResources('AWS::S3::Bucket', {
        Properties: { LoggingConfiguration: { LogFilePrefix: 'snapshot-manifests/' } },
      }),
    );
    const { statements: all, properties } = functionRole(template, RECORD_MANIFEST);
    // Act
    const s3 = all.filter(({ Action }) => list(Action).some((a) => a.startsWith('s3:')));
    const secrets = all.filter(({ Action }) =>
      list(Action).some((a) => a.startsWith('secretsmanager:')),
    );
    // Assess
    expect(s3).toEqual([
      {
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:GetObject'],
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/manifests/*']] },
      },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [bucket, 'Arn'] } },
    ]);
    expect(properties?.Environment.Variables.MANIFEST_BUCKET).toEqual({ Ref: bucket });
    expect(secrets).toHaveLength(1);
    expect(secrets[0]?.Resource).toEqual(properties?.Environment.Variables.DATABASE_SECRET_ARN);
    expect(list(secrets[0]?.Action ?? [])).toContain('secretsmanager:GetSecretValue');
  });

  it('is one of the functions the release machine may invoke', () => {
    // Prepare
    const { id } = functionRole(template, RECORD_MANIFEST);
    // Act
    const invoke = releaseRoleStatements(template).find(({ Action }) =>
      list(Action).includes('lambda:InvokeFunction'),
    );
    // Assess
    expect(list(invoke?.Resource)).toContainEqual({ 'Fn::GetAtt': [id, 'Arn'] });
  });
});

describe('CompareSchema', () => {
  it('reaches the live database as RecordSnapshotManifest does: VPC, verifier group, secret, prefix', () => {
    // Prepare
    const compare = functionRole(template, COMPARE_SCHEMA);
    const manifest = functionRole(template, RECORD_MANIFEST);
    // Act
    const env = compare.properties?.Environment.Variables;
    const secrets = compare.statements.filter(({ Action }) =>
      list(Action).some((a) => a.startsWith('secretsmanager:')),
    );
    // Assess
    expect(env).toMatchObject({
      DATABASE_SECRET_ARN: manifest.properties?.Environment.Variables.DATABASE_SECRET_ARN,
      DATABASE_HOST: manifest.properties?.Environment.Variables.DATABASE_HOST,
      DATABASE_PORT: manifest.properties?.Environment.Variables.DATABASE_PORT,
      DATABASE_NAME: 'wordpress',
      TABLE_PREFIX: 'wp_',
      MANIFEST_PREFIX: 'manifests/',
    });
    expect(env.DATABASE_PASSWORD).toBeUndefined();
    expect(compare.properties?.VpcConfig?.SecurityGroupIds).toEqual(
      manifest.properties?.VpcConfig?.SecurityGroupIds,
    );
    expect(secrets).toHaveLength(1);
    expect(secrets[0]?.Resource).toEqual(env.DATABASE_SECRET_ARN);
  });

  it('only reads manifests/ of the manifest bucket: no write, no other key', () => {
    // Prepare
    const [bucket] = Object.keys(
      template.findResources('AWS::S3::Bucket', {
        Properties: { LoggingConfiguration: { LogFilePrefix: 'snapshot-manifests/' } },
      }),
    );
    const { statements: all, properties } = functionRole(template, COMPARE_SCHEMA);
    // Act
    const s3 = all.filter(({ Action }) => list(Action).some((a) => a.startsWith('s3:')));
    // Assess
    expect(s3).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/manifests/*']] },
      },
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: { 'Fn::GetAtt': [bucket, 'Arn'] },
        Condition: { StringLike: { 's3:prefix': ['manifests/*'] } },
      },
    ]);
    expect(properties?.Environment.Variables.MANIFEST_BUCKET).toEqual({ Ref: bucket });
    expect(
      all.filter(({ Action }) => list(Action).some((a) => /^(dynamodb|ecs|rds):/.test(a))),
    ).toEqual([]);
  });

  it('is the function behind the CompareSchema state, which the release machine may invoke', () => {
    // Prepare
    const { id } = functionRole(template, COMPARE_SCHEMA);
    const machine = Object.values(
      template.findResources('AWS::StepFunctions::StateMachine', {
        Properties: { StateMachineName: 'stepdeploy-release' },
      }),
    )[0];
    // Act
    const invoke = releaseRoleStatements(template).find(({ Action }) =>
      list(Action).includes('lambda:InvokeFunction'),
    );
    const substitution = machine?.Properties.DefinitionSubstitutions.CompareSchemaFunctionArn;
    // Assess
    expect(list(invoke?.Resource)).toContainEqual({ 'Fn::GetAtt': [id, 'Arn'] });
    expect(substitution).toEqual({ 'Fn::GetAtt': [id, 'Arn'] });
  });
});

describe('CheckTrial', () => {
  const CHECK_TRIAL = /^CheckTrial[0-9A-F]{8}$/;

  it('asks the trial task from the VPC with the verifier group, on the container port and the site host', () => {
    // Prepare
    const trial = functionRole(template, CHECK_TRIAL);
    const manifest = functionRole(template, RECORD_MANIFEST);
    // Act
    const env = trial.properties?.Environment.Variables;
    // Assess
    expect(env).toMatchObject({ APP_PORT: '8080', HEALTH_CHECK_PATH: '/healthz' });
    expect(JSON.stringify(env.SITE_HOST)).toMatch(/LoadBalancer.*DNSName/);
    expect(trial.properties?.VpcConfig?.SecurityGroupIds).toEqual(
      manifest.properties?.VpcConfig?.SecurityGroupIds,
    );
  });

  it('may only describe tasks of our cluster: no run, stop, update or secret', () => {
    // Prepare
    const { statements } = functionRole(template, CHECK_TRIAL);
    // Act
    const actions = statements.flatMap(({ Action }) => list(Action));
    const ecs = statements.filter(({ Action }) => list(Action).some((a) => a.startsWith('ecs:')));
    // Assess
    expect(actions.filter((a) => /^(ecs|iam|secretsmanager|dynamodb|s3):/.test(a))).toEqual([
      'ecs:DescribeTasks',
    ]);
    expect(JSON.stringify(ecs[0]?.Resource)).toContain(':task/*');
    expect(ecs[0]).toMatchObject({
      Condition: { ArnEquals: { 'ecs:cluster': expect.anything() } },
    });
  });

  it('is the function behind the CheckTrial state; StartTrial runs the new revision beside the service', () => {
    // Prepare
    const { id } = functionRole(template, CHECK_TRIAL);
    const machine = Object.values(
      template.findResources('AWS::StepFunctions::StateMachine', {
        Properties: { StateMachineName: 'stepdeploy-release' },
      }),
    )[0];
    // Act
    const substitutions = machine?.Properties.DefinitionSubstitutions;
    const definition = JSON.parse(machine?.Properties.DefinitionString as string);
    // Assess
    expect(substitutions.CheckTrialFunctionArn).toEqual({ 'Fn::GetAtt': [id, 'Arn'] });
    expect(substitutions.TrialFailingChecks).toBe('2');
    expect(definition.States.RegisterTaskDefinition.Next).toBe('StartTrial');
    expect(definition.States.StartTrial).toMatchObject({
      Resource: 'arn:aws:states:::ecs:runTask',
      Parameters: {
        LaunchType: 'FARGATE',
        'StartedBy.$': "States.Format('stepdeploy-trial-{}', $.release.releaseId)",
      },
    });
    expect(definition.States.StopTrial.Next).toBe('DeployService');
  });
});

describe('releaseVerifyBackup', () => {
  it('parses off (the default), warn and block, and refuses anything else by name', () => {
    // Prepare
    const read = (value?: string) =>
      parseConfig((key) => (key === 'releaseVerifyBackup' ? value : undefined));
    // Act / Assess
    expect(read().releaseVerifyBackup).toBe('off');
    expect(read('warn').releaseVerifyBackup).toBe('warn');
    expect(read('block').releaseVerifyBackup).toBe('block');
    expect(() => read('maybe')).toThrow(/Invalid config 'releaseVerifyBackup'.*off, warn, block/);
  });

  it('off: the release machine may start no other execution, and keeps the 2-hour lease', () => {
    // Prepare / Act
    const starts = releaseRoleStatements(template).filter(({ Action }) =>
      list(Action).some((a) => a.startsWith('states:')),
    );
    // Assess
    expect(starts).toEqual([]);
    expect(
      functionRole(template, 'LOCK_LEASE_SECONDS').properties?.Environment.Variables,
    ).toMatchObject({ LOCK_LEASE_SECONDS: '7200' });
  });

  describe('block', () => {
    let blocking: Template;
    let app: ReturnType<typeof buildApp>;
    beforeAll(() => {
      // Prepare
      app = buildApp({ releaseVerifyBackup: 'block' });
      blocking = Template.fromStack(app.pipeline);
    }, 120_000);

    it('starts only the verify-restore machine, and watches only its executions (.sync:2)', () => {
      // Prepare
      const [verify] = Object.keys(
        blocking.findResources('AWS::StepFunctions::StateMachine', {
          Properties: { StateMachineName: 'stepdeploy-verify-restore' },
        }),
      );
      const all = releaseRoleStatements(blocking);
      const of = (action: string) => all.filter(({ Action }) => list(Action).includes(action));
      // Act
      const start = of('states:StartExecution');
      const watch = of('states:DescribeExecution');
      const rule = of('events:PutRule');
      // Assess
      expect(start).toHaveLength(1);
      expect(start[0]?.Resource).toEqual({ Ref: verify });
      expect(watch).toHaveLength(1);
      expect(list(watch[0]?.Action ?? [])).toEqual([
        'states:DescribeExecution',
        'states:StopExecution',
      ]);
      expect(JSON.stringify(watch[0]?.Resource)).toMatch(
        new RegExp(`:execution:",\\{"Fn::GetAtt":\\["${verify}","Name"\\]\\},":\\*"`),
      );
      expect(JSON.stringify(rule.map((s) => s.Resource))).toContain(
        'rule/StepFunctionsGetEventsForStepFunctionsExecutionRule',
      );
      expect(
        list(rule.find((s) => JSON.stringify(s.Resource).includes('ExecutionRule'))?.Action ?? []),
      ).toEqual(['events:PutTargets', 'events:PutRule', 'events:DescribeRule']);
    });

    it('puts the mode into the release definition and lengthens the lock lease', () => {
      // Prepare
      const machine = Object.values(
        blocking.findResources('AWS::StepFunctions::StateMachine', {
          Properties: { StateMachineName: 'stepdeploy-release' },
        }),
      )[0];
      // Act
      const substitutions = machine?.Properties.DefinitionSubstitutions;
      // Assess
      expect(substitutions.VerifyBackupMode).toBe('block');
      expect(substitutions.VerifyRestoreStateMachineArn).toEqual({
        Ref: expect.stringMatching(/^VerifyRestoreStateMachine/),
      });
      expect(
        functionRole(blocking, 'LOCK_LEASE_SECONDS').properties?.Environment.Variables,
      ).toMatchObject({ LOCK_LEASE_SECONDS: '14400' });
    });

    it('has zero unacknowledged cdk-nag findings', () => {
      // Prepare
      const checks = new AwsSolutionsChecks(app.app, { verbose: true });
      // Act
      const report = checks.validateScope(app.pipeline);
      // Assess
      expect(
        report.violations.map(
          (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`,
        ),
      ).toEqual([]);
    });
  });
});
