import { CfnOutput, Duration, Validations } from 'aws-cdk-lib';
import type * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { StepFunction } from './step-function.ts';

/** Pushes to one branch of the pipeline's source repository start releases. */
export interface CodeCommitTriggerOptions {
  /** The repository CodeBuild builds from (the pipeline's, created or imported by name). */
  readonly repository: codecommit.IRepository;
  /** Branch whose pushes start releases. */
  readonly branch: string;
}

/** Uploads under one prefix of the pipeline's source bucket start releases. */
export interface S3TriggerOptions {
  /**
   * The versioned bucket CodeBuild reads source zips from (the pipeline's). A concrete Bucket
   * of the same stack, because its EventBridge notifications are switched on here.
   */
  readonly bucket: s3.Bucket;
  /** Key prefix, e.g. `releases/`. */
  readonly prefix: string;
  /** Key suffix, default `.zip`. */
  readonly suffix?: string;
}

/** Props of ReleaseTriggers. */
export interface ReleaseTriggersProps {
  /** The release state machine: the only one the triggers may start. */
  readonly releaseStateMachine: sfn.IStateMachine;
  /** Omit to have no CodeCommit trigger. */
  readonly codeCommit?: CodeCommitTriggerOptions;
  /** Omit to have no S3 trigger. */
  readonly s3?: S3TriggerOptions;
  /**
   * Where a push or upload that started no release is announced (its commit or object version
   * was already released: the execution name is taken), with the command that releases it anew.
   */
  readonly topic: sns.ITopic;
  /** Days to keep StartRelease's logs. */
  readonly logRetention?: RetentionDays;
  /** `service` dimension of StartRelease's metrics (see StepFunction). */
  readonly metricsService?: string;
}

/**
 * Starts releases from pushes to a CodeCommit branch and from zips uploaded to a versioned
 * S3 prefix. Both rules target StartRelease, which names the execution after the commit id
 * or object version, so one source never starts two releases; distinct sources arriving in
 * a burst each start and then queue on the release lock. The repository and the bucket are
 * the pipeline's own, so what starts a release is exactly what CodeBuild builds.
 */
export class ReleaseTriggers extends Construct {
  /** The function that starts executions; the only principal allowed to. */
  readonly starter: StepFunction;
  /** Where trigger events land when StartRelease keeps failing; alarm on its depth. */
  readonly deadLetterQueue: sqs.Queue;
  readonly codeCommitRule?: events.Rule;
  readonly s3Rule?: events.Rule;

  constructor(scope: Construct, id: string, props: ReleaseTriggersProps) {
    super(scope, id);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the trigger rules and function.',
    });

    // EventBridge invokes asynchronously: the rule's DLQ catches events it could not deliver,
    // the function's DLQ those whose start kept failing after Lambda's own retries.
    this.starter = new StepFunction(this, 'StartRelease', {
      step: 'start-release',
      description: 'Starts one release per commit or object version (idempotent by name)',
      environment: {
        RELEASE_STATE_MACHINE_ARN: props.releaseStateMachine.stateMachineArn,
        TOPIC_ARN: props.topic.topicArn,
      },
      deadLetterQueue: this.deadLetterQueue,
      logRetention: props.logRetention,
      metricsService: props.metricsService,
    });
    // grantStartExecution scopes states:StartExecution to this state machine's ARN only.
    props.releaseStateMachine.grantStartExecution(this.starter);
    props.topic.grantPublish(this.starter);
    Validations.of(this.starter).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason:
        "Announcing a skipped push on a KMS-encrypted topic needs GenerateDataKey* on that topic's one key (grantPublish).",
    });

    const target = (input: events.RuleTargetInput) =>
      new targets.LambdaFunction(this.starter, {
        event: input,
        retryAttempts: 8,
        maxEventAge: Duration.hours(2),
        deadLetterQueue: this.deadLetterQueue,
      });

    if (props.codeCommit) {
      const { repository, branch } = props.codeCommit;
      this.codeCommitRule = new events.Rule(this, 'OnPush', {
        description: `Start a release on every push to ${branch}`,
        eventPattern: {
          source: ['aws.codecommit'],
          detailType: ['CodeCommit Repository State Change'],
          resources: [repository.repositoryArn],
          detail: {
            event: ['referenceCreated', 'referenceUpdated'],
            referenceType: ['branch'],
            referenceName: [branch],
          },
        },
        targets: [
          target(
            events.RuleTargetInput.fromObject({
              trigger: 'codecommit',
              repository: events.EventField.fromPath('$.detail.repositoryName'),
              branch: events.EventField.fromPath('$.detail.referenceName'),
              commitId: events.EventField.fromPath('$.detail.commitId'),
              startedBy: events.EventField.fromPath('$.detail.callerUserArn'),
            }),
          ),
        ],
      });
      new CfnOutput(this, 'SourceRepositoryName', {
        value: repository.repositoryName,
        description: 'CodeCommit repository whose pushes start releases',
      }).overrideLogicalId('SourceRepositoryName');
      new CfnOutput(this, 'SourceBranch', {
        value: branch,
        description: 'Branch whose pushes start releases',
      }).overrideLogicalId('SourceBranch');
    }

    if (props.s3) {
      const { bucket, prefix } = props.s3;
      const suffix = props.s3.suffix ?? '.zip';
      const cfnBucket = bucket.node.defaultChild as s3.CfnBucket;
      const versioning = cfnBucket.versioningConfiguration as
        | s3.CfnBucket.VersioningConfigurationProperty
        | undefined;
      // Idempotent starts and CodeBuild's exact source both rest on the object version id.
      if (versioning?.status !== 'Enabled') {
        throw new Error(`the S3 trigger needs a versioned bucket: ${bucket.node.path}`);
      }
      // Set natively rather than with eventBridgeEnabled, which adds a custom-resource Lambda.
      cfnBucket.notificationConfiguration = {
        ...(cfnBucket.notificationConfiguration as s3.CfnBucket.NotificationConfigurationProperty),
        eventBridgeConfiguration: { eventBridgeEnabled: true },
      };
      this.s3Rule = new events.Rule(this, 'OnUpload', {
        description: `Start a release for every ${prefix}*${suffix} uploaded`,
        eventPattern: {
          source: ['aws.s3'],
          detailType: ['Object Created'],
          detail: {
            bucket: { name: [bucket.bucketName] },
            // A wildcard is the one filter that checks prefix and suffix together.
            object: { key: events.Match.wildcard(`${prefix}*${suffix}`) },
          },
        },
        targets: [
          target(
            events.RuleTargetInput.fromObject({
              trigger: 's3',
              bucket: events.EventField.fromPath('$.detail.bucket.name'),
              key: events.EventField.fromPath('$.detail.object.key'),
              versionId: events.EventField.fromPath('$.detail.object.version-id'),
              startedBy: events.EventField.fromPath('$.detail.requester'),
            }),
          ),
        ],
      });
      new CfnOutput(this, 'ArtifactBucketName', {
        value: bucket.bucketName,
        description: `Upload ${prefix}<name>${suffix} here to start a release`,
      }).overrideLogicalId('ArtifactBucketName');
    }
  }
}
