import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { StepFunction } from '../step-function.ts';
import { type VerificationStepSettings, type VerifierPlacement, verificationStep } from './step.ts';

/** Props of {@link RestoreVerification}. */
export interface RestoreVerificationProps extends VerificationStepSettings {
  /** Where VerifyData and VerifyApplication run (the verifier group). */
  readonly verifier: VerifierPlacement;
  /** The live database: its login (the restore keeps it) and, without a manifest, the comparison. */
  readonly database: rds.IDatabaseInstance;
  readonly databaseSecret: secretsmanager.ISecret;
  /** Schema WordPress uses. */
  readonly databaseName: string;
  readonly tablePrefix: string;
  readonly rowCountTolerance: number;
  /** Bucket and key prefix of the snapshot manifests (`<manifestPrefix><snapshotId>.json`). */
  readonly manifestBucket: s3.IBucket;
  readonly manifestPrefix: string;
  readonly cluster: ecs.ICluster;
  /** The application's task definition, from whose current revision the verification's is made. */
  readonly taskDefinition: ecs.TaskDefinition;
  /** Family of the verification's revisions (`<family>-verify`). */
  readonly verificationFamily: string;
  /** Port the WordPress container listens on. */
  readonly appPort: number;
  /** Site URL of the one-off task; its host is the Host header VerifyApplication sends. */
  readonly verificationSiteUrl: string;
}

/**
 * The checks of the backup verification: VerifyData (the restored rows against the snapshot's
 * manifest, or the live database), RegisterVerificationTaskDefinition (the verification's own
 * revision: no live uploads, the scratch site URL), VerifyApplication (the one-off task boots
 * on the restored data) and PublishMetrics (RTO, RPO, outcome). Created in `scope`, not a
 * Construct node of its own (see ScratchRestore).
 */
export class RestoreVerification {
  readonly verifyData: StepFunction<'verify-data'>;
  readonly verifyApplication: StepFunction<'verify-application'>;
  readonly registerVerificationTaskDefinition: StepFunction<'register-verification-task-definition'>;
  readonly publishMetrics: StepFunction<'publish-metrics'>;

  constructor(scope: Construct, props: RestoreVerificationProps) {
    const { verifier } = props;
    // VerifyApplication (verifier group) probes the one-off task (verifier group) on the app port.
    verifier.securityGroup.connections.allowFrom(
      verifier.securityGroup,
      ec2.Port.tcp(props.appPort),
      'backup verifier probes the one-off WordPress task',
    );
    this.verifyData = verificationStep(scope, 'VerifyData', 'verify-data', props, verifier)
      .bindVerificationDatabase(
        props.database,
        props.databaseSecret,
        props.databaseName,
        props.tablePrefix,
      )
      .bindManifestReader(props.manifestBucket, props.manifestPrefix)
      .bindRowCountTolerance(props.rowCountTolerance);
    this.verifyApplication = verificationStep(
      scope,
      'VerifyApplication',
      'verify-application',
      props,
      verifier,
    ).bindApplicationProbe(props.cluster, props.appPort, new URL(props.verificationSiteUrl).host);
    this.publishMetrics = verificationStep(
      scope,
      'PublishMetrics',
      'publish-metrics',
      props,
    ).bindVerificationMetrics(props.database);
    this.registerVerificationTaskDefinition = verificationStep(
      scope,
      'RegisterVerificationTaskDefinition',
      'register-verification-task-definition',
      props,
    ).bindVerificationTaskDefinition(props.taskDefinition, props.verificationFamily);
  }
}
