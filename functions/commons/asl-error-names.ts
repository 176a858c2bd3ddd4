/**
 * Every `ErrorEquals` name the state machines (statemachine/*.asl.json) use, where it comes
 * from and on which kind of Task it can occur. A Retry or Catch on a name the integration
 * never raises is silent: the retry never happens and the catch never fires, which no local
 * run shows (aws-local-stepfunctions matches whatever name a handler throws). The test
 * test/unit/asl-error-names.test.ts checks every name of both ASLs against this table, on
 * the right kind of Task, and every Lambda error class against its `this.name`.
 *
 * Evidence, strongest first:
 * - `documented`: the name is spelled out in AWS documentation;
 * - `rule`: derived with the documented AWS SDK integration rule ("ServiceName.ErrorName",
 *   both PascalCase, the `Exception` suffix always added; Step Functions developer guide,
 *   https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html)
 *   from an error the service's API reference lists;
 * - `assumed`: AWS documents no error names for this integration; the name is what public
 *   state machines observed or what the naming of the documented cases implies. Unverified
 *   on an account: check it against a real failure's history before relying on it.
 */

import {
  LockHeldError,
  LockWaitTimeoutError,
  ReleaseSupersededError,
  TransientAwsError,
} from './errors.ts';
import { ScratchUnreachableError } from './verify-errors.ts';

/** The kinds of Task a name can come from, by their `Resource`. */
export type Integration =
  /** Any state: the States.* names of the Amazon States Language. */
  | 'states'
  /** A Lambda function ARN (`${XFunctionArn}`) or `arn:aws:states:::lambda:invoke`. */
  | 'lambda'
  | 'aws-sdk:rds'
  | 'aws-sdk:ecs'
  /** Optimized integrations (not aws-sdk): their names use another prefix. */
  | 'codebuild'
  | 'ecs'
  | 'sns'
  | 'states-execution';

/** Where a name comes from. */
export interface ErrorNameSource {
  readonly integration: Integration;
  readonly evidence: 'documented' | 'rule' | 'assumed';
  /** The page or API reference entry it comes from, and for `assumed` what it rests on. */
  readonly reference: string;
  /** For Lambda steps: the error class whose `name` this is. */
  readonly errorClass?: new (
    message: string,
  ) => Error;
}

const LAMBDA_BP =
  'Step Functions developer guide, "Handle Lambda service exceptions" (bp-lambda-serviceexception)';
const SDK_RULE =
  'Step Functions developer guide, supported-services-awssdk: "ServiceName.ErrorName", PascalCase, Exception suffix';
const RDS_DB_CASING =
  'PascalCase turns the API error "DB" into "Db": Rds.InvalidDbInstanceStateException observed for InvalidDBInstanceState (public state machine, not documented)';
const OPTIMIZED =
  'Not documented: AWS lists no error names for optimized integrations. Observed in public state machines: the upper-case service prefix (ECS., SNS., CodeBuild.) and the AWS Java SDK v1 exception class names, with <Sdk>Exception for errors the service model does not name (throttling among them)';

const lambdaClass = (errorClass: new (message: string) => Error): ErrorNameSource => ({
  integration: 'lambda',
  evidence: 'documented',
  reference: 'functions/: a class with this `this.name`; Lambda reports the thrown error name',
  errorClass,
});

/** Every ErrorEquals name of both ASLs, and only those (the test checks both ways). */
export const ASL_ERROR_NAMES: Readonly<Record<string, ErrorNameSource>> = {
  'States.ALL': {
    integration: 'states',
    evidence: 'documented',
    reference: 'Amazon States Language, "Errors": States.ALL matches any error name',
  },

  // Lambda (the ASLs invoke function ARNs).
  'Lambda.ServiceException': {
    integration: 'lambda',
    evidence: 'documented',
    reference: LAMBDA_BP,
  },
  'Lambda.AWSLambdaException': {
    integration: 'lambda',
    evidence: 'documented',
    reference: LAMBDA_BP,
  },
  'Lambda.SdkClientException': {
    integration: 'lambda',
    evidence: 'documented',
    reference: LAMBDA_BP,
  },
  'Lambda.TooManyRequestsException': {
    integration: 'lambda',
    evidence: 'documented',
    reference: `${LAMBDA_BP}: "When Lambda hits the maximum number of invocations"`,
  },
  TransientAwsError: lambdaClass(TransientAwsError),
  LockHeldError: lambdaClass(LockHeldError),
  ReleaseSupersededError: lambdaClass(ReleaseSupersededError),
  LockWaitTimeoutError: lambdaClass(LockWaitTimeoutError),
  ScratchUnreachableError: lambdaClass(ScratchUnreachableError),

  // aws-sdk:rds:* (createDBSnapshot, describeDBSnapshots, restoreDBInstanceFromDBSnapshot,
  // describeDBInstances, deleteDBInstance).
  'Rds.DbSnapshotAlreadyExistsException': {
    integration: 'aws-sdk:rds',
    evidence: 'rule',
    reference: `RDS API Reference, CreateDBSnapshot errors: DBSnapshotAlreadyExists. ${SDK_RULE}. ${RDS_DB_CASING}`,
  },
  'Rds.DbInstanceAlreadyExistsException': {
    integration: 'aws-sdk:rds',
    evidence: 'rule',
    reference: `RDS API Reference, RestoreDBInstanceFromDBSnapshot errors: DBInstanceAlreadyExists. ${SDK_RULE}. ${RDS_DB_CASING}`,
  },
  'Rds.DbInstanceNotFoundException': {
    integration: 'aws-sdk:rds',
    evidence: 'rule',
    reference: `RDS API Reference, DeleteDBInstance errors: DBInstanceNotFound. ${SDK_RULE}. ${RDS_DB_CASING}`,
  },
  'Rds.InvalidDbInstanceStateException': {
    integration: 'aws-sdk:rds',
    evidence: 'rule',
    reference: `RDS API Reference, CreateDBSnapshot / DeleteDBInstance errors: InvalidDBInstanceState. ${SDK_RULE}. ${RDS_DB_CASING}`,
  },
  'Rds.ThrottlingException': {
    integration: 'aws-sdk:rds',
    evidence: 'rule',
    reference: `RDS API Reference, Common Errors: ThrottlingException. ${SDK_RULE}. Assumed to be how a throttled call surfaces; see Rds.RdsException`,
  },
  'Rds.ServiceUnavailableException': {
    integration: 'aws-sdk:rds',
    evidence: 'rule',
    reference: `RDS API Reference, Common Errors: ServiceUnavailable (503). ${SDK_RULE}`,
  },
  'Rds.RdsException': {
    integration: 'aws-sdk:rds',
    evidence: 'assumed',
    reference:
      'Not documented. Observed (public state machine): a common error the RDS model does not name (InvalidParameterCombination) surfaced as Rds.RdsException, the SDK base exception; so throttling may too. Retried with the throttling names, bounded',
  },
  'Rds.SdkClientException': {
    integration: 'aws-sdk:rds',
    evidence: 'assumed',
    reference:
      'Not documented for AWS SDK integrations; by analogy with the documented Lambda.SdkClientException (a client-side failure of the call)',
  },

  // aws-sdk:ecs:* (describeServices, stopTask).
  'Ecs.ServerException': {
    integration: 'aws-sdk:ecs',
    evidence: 'rule',
    reference: `ECS API Reference, DescribeServices / StopTask errors: ServerException (500, a server issue). ${SDK_RULE}`,
  },
  'Ecs.ThrottlingException': {
    integration: 'aws-sdk:ecs',
    evidence: 'rule',
    reference: `ECS API Reference, Common Errors: ThrottlingException. ${SDK_RULE}. See Ecs.EcsException`,
  },
  'Ecs.ServiceUnavailableException': {
    integration: 'aws-sdk:ecs',
    evidence: 'rule',
    reference: `ECS API Reference, Common Errors: ServiceUnavailable (503). ${SDK_RULE}`,
  },
  'Ecs.EcsException': {
    integration: 'aws-sdk:ecs',
    evidence: 'assumed',
    reference:
      'Not documented; the SDK base exception for errors the ECS model does not name, as Rds.RdsException for RDS (observed in public state machines)',
  },
  'Ecs.SdkClientException': {
    integration: 'aws-sdk:ecs',
    evidence: 'assumed',
    reference: 'Not documented; by analogy with the documented Lambda.SdkClientException',
  },

  // Optimized integrations.
  'CodeBuild.AccountLimitExceededException': {
    integration: 'codebuild',
    evidence: 'assumed',
    reference: `CodeBuild API Reference, StartBuild errors: AccountLimitExceededException (concurrent build limit). Prefix: ${OPTIMIZED}`,
  },
  'CodeBuild.AWSCodeBuildException': {
    integration: 'codebuild',
    evidence: 'assumed',
    reference: `${OPTIMIZED}; CodeBuild throttling (an unmodeled common error) arrives as this`,
  },
  'ECS.AmazonECSException': {
    integration: 'ecs',
    evidence: 'assumed',
    reference: `${OPTIMIZED}; public state machines retry RunTask on it for throttling and capacity`,
  },
  'AmazonECS.Unknown': {
    integration: 'ecs',
    evidence: 'documented',
    reference:
      'Step Functions developer guide, ECS integration (connect-ecs): runTask fails with AmazonECS.Unknown when the response carries Failures (e.g. no capacity, a bad network configuration)',
  },
  'ECS.ServerException': {
    integration: 'ecs',
    evidence: 'assumed',
    reference: `ECS API Reference, RunTask errors: ServerException. Prefix: ${OPTIMIZED}`,
  },
  'SNS.InternalErrorException': {
    integration: 'sns',
    evidence: 'assumed',
    reference: `SNS API Reference, Publish errors: InternalError (500). Prefix: ${OPTIMIZED}`,
  },
  'SNS.KMSThrottlingException': {
    integration: 'sns',
    evidence: 'assumed',
    reference: `SNS API Reference, Publish errors: KMSThrottling (the topic is KMS-encrypted). Prefix and casing: ${OPTIMIZED}`,
  },
  'SNS.AmazonSNSException': {
    integration: 'sns',
    evidence: 'assumed',
    reference: `${OPTIMIZED}. Publish throttling is the unmodeled common ThrottlingException ("Rate exceeded"; AWS re:Post knowledge center, sns-throttling-exception-errors), so it arrives as this`,
  },
  'StepFunctions.ExecutionLimitExceededException': {
    integration: 'states-execution',
    evidence: 'assumed',
    reference:
      'Step Functions API Reference, StartExecution errors: ExecutionLimitExceeded. Not documented for states:startExecution; observed in public state machines: the StepFunctions. prefix and the Exception suffix (StepFunctions.ExecutionAlreadyExistsException)',
  },
};

/** The integration of a Task state's `Resource`; throws for one this table does not cover. Pure. */
export function integrationOf(resource: string): Integration {
  if (!resource.startsWith('arn:aws:states:::')) return 'lambda';
  const target = resource.slice('arn:aws:states:::'.length);
  if (target.startsWith('lambda:')) return 'lambda';
  if (target.startsWith('aws-sdk:rds:')) return 'aws-sdk:rds';
  if (target.startsWith('aws-sdk:ecs:')) return 'aws-sdk:ecs';
  if (target.startsWith('codebuild:')) return 'codebuild';
  if (target.startsWith('ecs:')) return 'ecs';
  if (target.startsWith('sns:')) return 'sns';
  if (target.startsWith('states:startExecution')) return 'states-execution';
  throw new Error(`no error names are known for the integration ${resource}`);
}
