import { Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { placeholdersOf } from '#stack/constructs/release-state-machine.ts';
import { pipelineTemplate } from '../statemachine/synthesized.ts';

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
  'ecr:GetAuthorizationToken': 'registry-wide token',
  'logs:CreateLogDelivery': 'Step Functions log delivery',
  'logs:GetLogDelivery': 'Step Functions log delivery',
  'logs:UpdateLogDelivery': 'Step Functions log delivery',
  'logs:DeleteLogDelivery': 'Step Functions log delivery',
  'logs:ListLogDeliveries': 'Step Functions log delivery',
  'logs:PutResourcePolicy': 'Step Functions log delivery',
  'logs:DescribeResourcePolicies': 'Step Functions log delivery',
  'logs:DescribeLogGroups': 'Step Functions log delivery',
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
    // Assess
    expect(passRole).toHaveLength(1);
    expect(passRole[0]?.statement.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
    });
    expect(resources).toHaveLength(2);
    expect(resources).not.toContain('*');
    expect(JSON.stringify(resources)).toMatch(/TaskRole/);
    expect(JSON.stringify(resources)).toMatch(/ExecutionRole/);
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
    const publish = resourcesOf('sns:Publish');
    const invoke = all.find(({ statement }) =>
      list(statement.Action).includes('lambda:InvokeFunction'),
    );
    // Assess
    expect(snapshot).toMatch(/:db:","?\{?"?Fn::ImportValue/);
    expect(snapshot).toContain(':snapshot:stepdeploy-release-*');
    expect(describe).toContain(':snapshot:stepdeploy-release-*');
    expect(build).toMatch(/^\[\{"Fn::GetAtt":\["ImageBuild[0-9A-F]+","Arn"\]\}\]$/);
    expect(publish).toMatch(/^\[\{"Ref":"Notifications[0-9A-F]+"\}\]$/);
    expect(list(invoke?.statement.Resource)).toHaveLength(9);
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
    expect(placeholdersOf(body)).toHaveLength(20);
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
      Source: Match.objectLike({ Type: 'CODECOMMIT', BuildSpec: 'buildspec/buildspec.yml' }),
      EncryptionKey: Match.anyValue(),
    });
    const push = statements().filter(({ statement }) =>
      list(statement.Action).includes('ecr:PutImage'),
    );
    expect(push).toHaveLength(1);
    expect(JSON.stringify(push[0]?.statement.Resource)).toMatch(/ImportValue.*Repository/);
  });

  it('gives every step the shared Lambda defaults', () => {
    // Prepare
    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { POWERTOOLS_METRICS_NAMESPACE: 'stepdeploy' } } },
    });
    // Act
    const props = Object.values(functions).map((f) => f.Properties);
    // Assess
    expect(props).toHaveLength(9);
    for (const p of props) {
      expect(p).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: expect.anything() },
      });
      expect(p.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
    }
    template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 30 }, 11);
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
