import { CfnOutput, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { TriggerLambda } from './trigger-lambda.ts';

/** Where pushes come from: an existing repository by name, or one the stack creates. */
export interface CodeCommitTriggerOptions {
  readonly repositoryName: string;
  /** Create the repository (true) or use an existing one by name (false, the default). */
  readonly createRepository?: boolean;
  /** Branch whose pushes start releases. */
  readonly branch: string;
}

/** Which uploads start releases. */
export interface S3TriggerOptions {
  /** Key prefix, e.g. `releases/`. */
  readonly prefix: string;
  /** Key suffix, default `.zip`. */
  readonly suffix?: string;
  /** Keep the bucket when the stack is deleted (default true: it holds release history). */
  readonly retain?: boolean;
}

/** Props of ReleaseTriggers. */
export interface ReleaseTriggersProps {
  /** The release state machine: the only one the triggers may start. */
  readonly releaseStateMachine: sfn.IStateMachine;
  /** Omit to have no CodeCommit trigger. */
  readonly codeCommit?: CodeCommitTriggerOptions;
  /** Omit to have no S3 trigger (and no artifact bucket). */
  readonly s3?: S3TriggerOptions;
  /** Bucket for the artifact bucket's access logs; without one, access logging is off. */
  readonly accessLogsBucket?: s3.IBucket;
}

/**
 * Starts releases from pushes to a CodeCommit branch and from zips uploaded to a versioned
 * S3 prefix. Both rules target StartRelease, which names the execution after the commit id
 * or object version, so one source never starts two releases; distinct sources arriving in
 * a burst each start and then queue on the release lock.
 */
export class ReleaseTriggers extends Construct {
  /** The source repository (existing or created), when the CodeCommit trigger is on. */
  readonly repository?: codecommit.IRepository;
  /** The versioned artifact bucket, when the S3 trigger is on. */
  readonly bucket?: s3.Bucket;
  /** The function that starts executions; the only principal allowed to. */
  readonly starter: TriggerLambda;
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

    this.starter = new TriggerLambda(this, 'StartRelease', {
      folder: 'start-release',
      description: 'Starts one release per commit or object version (idempotent by name)',
      environment: { RELEASE_STATE_MACHINE_ARN: props.releaseStateMachine.stateMachineArn },
    });
    // grantStartExecution scopes states:StartExecution to this state machine's ARN only.
    props.releaseStateMachine.grantStartExecution(this.starter.function);
    this.deadLetterQueue.grantSendMessages(this.starter.function);

    const target = (input: events.RuleTargetInput) =>
      new targets.LambdaFunction(this.starter.function, {
        event: input,
        retryAttempts: 8,
        maxEventAge: Duration.hours(2),
        deadLetterQueue: this.deadLetterQueue,
      });

    if (props.codeCommit) {
      const options = props.codeCommit;
      this.repository = options.createRepository
        ? new codecommit.Repository(this, 'Repository', {
            repositoryName: options.repositoryName,
            description: 'Source of the WordPress image built by stepdeploy',
          })
        : codecommit.Repository.fromRepositoryName(this, 'Repository', options.repositoryName);
      this.codeCommitRule = new events.Rule(this, 'OnPush', {
        description: `Start a release on every push to ${options.branch}`,
        eventPattern: {
          source: ['aws.codecommit'],
          detailType: ['CodeCommit Repository State Change'],
          resources: [this.repository.repositoryArn],
          detail: {
            event: ['referenceCreated', 'referenceUpdated'],
            referenceType: ['branch'],
            referenceName: [options.branch],
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
        value: this.repository.repositoryName,
        description: 'CodeCommit repository whose pushes start releases',
      }).overrideLogicalId('SourceRepositoryName');
      new CfnOutput(this, 'SourceBranch', {
        value: options.branch,
        description: 'Branch whose pushes start releases',
      }).overrideLogicalId('SourceBranch');
    }

    if (props.s3) {
      const options = props.s3;
      this.bucket = new s3.Bucket(this, 'Artifacts', {
        versioned: true,
        encryption: s3.BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removalPolicy: options.retain === false ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
        lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(365) }],
        ...(props.accessLogsBucket
          ? {
              serverAccessLogsBucket: props.accessLogsBucket,
              serverAccessLogsPrefix: 'artifacts/',
            }
          : {}),
      });
      // Set natively rather than with eventBridgeEnabled, which adds a custom-resource Lambda.
      (this.bucket.node.defaultChild as s3.CfnBucket).notificationConfiguration = {
        eventBridgeConfiguration: { eventBridgeEnabled: true },
      };
      if (!props.accessLogsBucket) {
        Validations.of(this.bucket).acknowledge({
          id: 'AwsSolutions-S1',
          reason:
            'Uploads are recorded by the release they start (ledger: key, version, requester); pass accessLogsBucket for object-level access logs.',
        });
      }
      this.s3Rule = new events.Rule(this, 'OnUpload', {
        description: `Start a release for every ${options.prefix}*${options.suffix ?? '.zip'} uploaded`,
        eventPattern: {
          source: ['aws.s3'],
          detailType: ['Object Created'],
          detail: {
            bucket: { name: [this.bucket.bucketName] },
            // A wildcard is the one filter that checks prefix and suffix together.
            object: { key: events.Match.wildcard(`${options.prefix}*${options.suffix ?? '.zip'}`) },
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
        value: this.bucket.bucketName,
        description: `Upload ${options.prefix}<name>${options.suffix ?? '.zip'} here to start a release`,
      }).overrideLogicalId('ArtifactBucketName');
    }
  }
}
