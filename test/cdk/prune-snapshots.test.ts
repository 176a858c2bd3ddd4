import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, pipelineTemplate } from '#testkit/synthesized.ts';

type Statement = {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

let template: Template;
let built: ReturnType<typeof pipelineTemplate>['built'];
beforeAll(() => {
  ({ template, built } = pipelineTemplate());
}, 120_000);

const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
const statements = () =>
  Object.entries(template.findResources('AWS::IAM::Policy')).flatMap(([policy, resource]) =>
    (resource.Properties.PolicyDocument.Statement as Statement[]).map((statement) => ({
      policy,
      statement,
    })),
  );
const mentions = (value: unknown, text: string) => JSON.stringify(value).includes(text);

describe('PruneSnapshots IAM', () => {
  it('deletes only release snapshots tagged with this service, and nothing else may delete one', () => {
    // Prepare
    const serviceName = built.pipeline.resolve(built.application.service.serviceName);
    // Act
    const deleting = statements().filter(({ statement }) =>
      list(statement.Action).includes('rds:DeleteDBSnapshot'),
    );
    // Assess
    expect(deleting).toHaveLength(1);
    const [{ policy, statement }] = deleting as [(typeof deleting)[number]];
    expect(policy).toMatch(/^PruneSnapshotsServiceRoleDefaultPolicy/);
    expect(statement.Effect).toBe('Allow');
    expect(list(statement.Action)).toEqual(['rds:DeleteDBSnapshot']);
    expect(list(statement.Resource)).toHaveLength(1);
    expect(mentions(statement.Resource, ':snapshot:stepdeploy-release-*')).toBe(true);
    expect(statement.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/stepdeploy:service': serviceName },
    });
  });

  it('reads the snapshots and the ledger good index, and writes nothing else', () => {
    // Act
    const own = statements()
      .filter(({ policy }) => /^PruneSnapshotsServiceRoleDefaultPolicy/.test(policy))
      .flatMap(({ statement }) => list(statement.Action));
    // Assess
    expect(own.sort()).toEqual(
      [
        'dynamodb:Query',
        'rds:DeleteDBSnapshot',
        'rds:DescribeDBSnapshots',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
  });

  it('is a function the release machine may invoke, with the configured retention', () => {
    // Prepare
    const { pipeline } = buildApp({ keepReleaseSnapshots: '7', keepKnownGoodSnapshots: 2 });
    const configured = Template.fromStack(pipeline);
    // Act
    const [fn] = Object.keys(configured.findResources('AWS::Lambda::Function')).filter((id) =>
      id.startsWith('PruneSnapshots'),
    );
    const machines = Object.values(configured.findResources('AWS::StepFunctions::StateMachine'));
    const release = machines.find((m) =>
      mentions(m.Properties.DefinitionSubstitutions, 'PruneSnapshotsFunctionArn'),
    );
    // Assess
    expect(fn).toBeDefined();
    expect(release?.Properties.DefinitionSubstitutions).toMatchObject({
      PruneSnapshotsFunctionArn: { 'Fn::GetAtt': [fn, 'Arn'] },
      KeepReleaseSnapshots: '7',
      KeepKnownGoodSnapshots: '2',
    });
    const invoke = Object.values(configured.findResources('AWS::IAM::Policy')).flatMap((r) =>
      (r.Properties.PolicyDocument.Statement as Statement[]).filter((st) =>
        list(st.Action).includes('lambda:InvokeFunction'),
      ),
    );
    expect(invoke.some((st) => mentions(st.Resource, fn as string))).toBe(true);
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
