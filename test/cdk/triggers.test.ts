import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ReleaseTriggers } from '#stack/constructs/triggers.ts';

// One synth for the file: bundling the Lambda takes a few seconds.
let template: Template;
let stack: Stack;
let app: App;

beforeAll(() => {
  // Prepare: a real (trivial) release machine, one unrelated machine, both triggers, cdk-nag.
  process.env.CDK_DOCKER ??= '/nonexistent';
  app = new App();
  stack = new Stack(app, 'TriggersTest', { env: { account: '123456789012', region: 'eu-west-1' } });
  const release = new sfn.StateMachine(stack, 'Release', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Noop')),
    tracingEnabled: true,
  });
  const other = new sfn.StateMachine(stack, 'Other', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'OtherNoop')),
    tracingEnabled: true,
  });
  for (const machine of [release, other]) {
    Validations.of(machine).acknowledge({
      id: 'AwsSolutions-SF1',
      reason: 'Test-only Pass machine; the real ones log ALL events.',
    });
    Validations.of(machine).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Test-only Pass machine: X-Ray tracing needs a wildcard resource.',
    });
  }
  // The pipeline's own source repository and bucket, which the triggers must reuse.
  const repository = new codecommit.Repository(stack, 'Source', {
    repositoryName: 'wordpress-site',
  });
  const bucket = new s3.Bucket(stack, 'SourceUploads', {
    versioned: true,
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
  });
  Validations.of(bucket).acknowledge({
    id: 'AwsSolutions-S1',
    reason: 'Test-only bucket; the pipeline stack logs access to its source bucket.',
  });
  const topic = new sns.Topic(stack, 'Topic', { enforceSSL: true });
  Validations.of(topic).acknowledge({
    id: 'AwsSolutions-SNS2',
    reason: 'Test-only topic; the pipeline stack encrypts its topic with KMS.',
  });
  new ReleaseTriggers(stack, 'Triggers', {
    releaseStateMachine: release,
    codeCommit: { repository, branch: 'main' },
    s3: { bucket, prefix: 'releases/' },
    topic,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  // Act: synth runs cdk-nag 3, which throws on any unacknowledged finding.
  template = Template.fromStack(stack);
});

describe('ReleaseTriggers', () => {
  it('starts a release on pushes to the configured branch only, passing repository, branch and commit', () => {
    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.codecommit'],
        'detail-type': ['CodeCommit Repository State Change'],
        resources: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Source'), 'Arn'] }],
        detail: {
          event: ['referenceCreated', 'referenceUpdated'],
          referenceType: ['branch'],
          referenceName: ['main'],
        },
      },
      Targets: [
        Match.objectLike({
          InputTransformer: {
            InputPathsMap: {
              'detail-repositoryName': '$.detail.repositoryName',
              'detail-referenceName': '$.detail.referenceName',
              'detail-commitId': '$.detail.commitId',
              'detail-callerUserArn': '$.detail.callerUserArn',
            },
            InputTemplate:
              '{"trigger":"codecommit","repository":<detail-repositoryName>,"branch":<detail-referenceName>,"commitId":<detail-commitId>,"startedBy":<detail-callerUserArn>}',
          },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetters'), 'Arn'] },
          },
        }),
      ],
    });
    template.hasResourceProperties('AWS::CodeCommit::Repository', {
      RepositoryName: 'wordpress-site',
    });
  });

  it('starts a release for releases/*.zip objects with bucket, key and version id', () => {
    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: {
          bucket: { name: [{ Ref: Match.stringLikeRegexp('^SourceUploads') }] },
          object: { key: [{ wildcard: 'releases/*.zip' }] },
        },
      },
      Targets: [
        Match.objectLike({
          InputTransformer: {
            InputPathsMap: {
              'detail-bucket-name': '$.detail.bucket.name',
              'detail-object-key': '$.detail.object.key',
              'detail-object-version-id': '$.detail.object.version-id',
              'detail-requester': '$.detail.requester',
            },
            InputTemplate:
              '{"trigger":"s3","bucket":<detail-bucket-name>,"key":<detail-object-key>,"versionId":<detail-object-version-id>,"startedBy":<detail-requester>}',
          },
        }),
      ],
    });
  });

  it('keeps artifacts in a versioned, encrypted, private, SSL-only bucket that sends EventBridge events', () => {
    // Assess
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      NotificationConfiguration: { EventBridgeConfiguration: {} },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('lets the trigger start executions of the release machine only', () => {
    // Assess: the only StartExecution grant names the release machine's ARN, nothing wider.
    const policies = template.findResources('AWS::IAM::Policy');
    const starts = Object.values(policies).flatMap((policy) =>
      (
        policy.Properties.PolicyDocument.Statement as {
          Action: string | string[];
          Resource: unknown;
        }[]
      ).filter((statement) => [statement.Action].flat().includes('states:StartExecution')),
    );
    expect(starts).toEqual([
      expect.objectContaining({
        Action: 'states:StartExecution',
        Resource: { Ref: expect.stringMatching(/^Release/) },
      }),
    ]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          RELEASE_STATE_MACHINE_ARN: { Ref: Match.stringLikeRegexp('^Release') },
        }),
      },
    });
  });

  it('lets StartRelease announce a skipped push or upload on the topic, and tells it which', () => {
    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ TOPIC_ARN: { Ref: Match.stringLikeRegexp('^Topic') } }),
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sns:Publish',
            Resource: { Ref: Match.stringLikeRegexp('^Topic') },
          }),
        ]),
      },
      Roles: [{ Ref: Match.stringLikeRegexp('^TriggersStartRelease') }],
    });
  });

  it('publishes the outputs the command line reads', () => {
    // Assess
    template.hasOutput('SourceRepositoryName', {});
    template.hasOutput('SourceBranch', { Value: 'main' });
    template.hasOutput('ArtifactBucketName', {});
  });

  it('creates no repository or bucket of its own', () => {
    // Assess: only the two the test stack passed in.
    template.resourceCountIs('AWS::CodeCommit::Repository', 1);
    template.resourceCountIs('AWS::S3::Bucket', 1);
  });

  it('refuses an unversioned bucket, whose uploads could not be started idempotently', () => {
    // Prepare
    const other = new Stack(new App(), 'Unversioned');
    const machine = sfn.StateMachine.fromStateMachineName(other, 'Release', 'release');
    const bucket = new s3.Bucket(other, 'Plain');
    // Act
    const build = () =>
      new ReleaseTriggers(other, 'Triggers', {
        releaseStateMachine: machine,
        s3: { bucket, prefix: 'releases/' },
        topic: sns.Topic.fromTopicArn(other, 'Topic', 'arn:aws:sns:eu-west-1:123456789012:t'),
      });
    // Assess
    expect(build).toThrow(/versioned bucket/);
  });

  it('sends events StartRelease could not handle to the dead-letter queue', () => {
    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      DeadLetterConfig: {
        TargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetters'), 'Arn'] },
      },
    });
  });

  it('has no unacknowledged cdk-nag findings', () => {
    // Assess
    expect(() => app.synth({ force: true })).not.toThrow();
  });
});
