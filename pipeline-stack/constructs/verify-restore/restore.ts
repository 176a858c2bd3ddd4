import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import type { Construct } from 'constructs';
import type { StepFunction } from '../step-function.ts';
import { type VerificationStepSettings, verificationStep } from './step.ts';

/** The port of MySQL, the only one a scratch instance listens on. */
const MYSQL_PORT = 3306;

/** Props of {@link ScratchRestore}. */
export interface ScratchRestoreProps extends VerificationStepSettings {
  /** Name prefix of the scratch instances. */
  readonly prefix: string;
  readonly vpc: ec2.IVpc;
  /** The live database, whose snapshots PickSnapshot chooses from. */
  readonly database: rds.IDatabaseInstance;
  /** The only group the scratch instance admits (VerifyData carries it). */
  readonly verifierSecurityGroup: ec2.ISecurityGroup;
  /** Default: the isolated subnets (no route out). */
  readonly scratchSubnets?: ec2.SubnetSelection;
  /** After this the sweeper may delete a scratch instance a dead run left behind (default 6 hours). */
  readonly scratchTtl?: Duration;
}

/**
 * The restore half of the backup verification: PickSnapshot (which snapshot, and the scratch
 * instance's name and expiry) and where a snapshot is restored to, a security group that only
 * the verifier reaches and that reaches nothing, in isolated subnets. The machine's
 * RestoreScratchInstance state restores into them (VerifyRestoreMachine grants it).
 *
 * Like the application stack's parts (see Network) this is not a Construct node: it creates its
 * resources in `scope` under the ids they had when the workflow was one construct, so the
 * logical ids of a deployed stack stay the same.
 */
export class ScratchRestore {
  readonly securityGroup: ec2.SecurityGroup;
  readonly subnetGroup: rds.SubnetGroup;
  readonly pickSnapshot: StepFunction<'pick-snapshot'>;

  constructor(scope: Construct, props: ScratchRestoreProps) {
    this.securityGroup = new ec2.SecurityGroup(scope, 'ScratchSecurityGroup', {
      vpc: props.vpc,
      allowAllOutbound: false,
      description: 'stepdeploy scratch databases: reachable only from the verifier group',
    });
    this.securityGroup.addIngressRule(
      props.verifierSecurityGroup,
      ec2.Port.tcp(MYSQL_PORT),
      'MySQL from the backup verifier only',
    );
    this.subnetGroup = new rds.SubnetGroup(scope, 'ScratchSubnetGroup', {
      vpc: props.vpc,
      vpcSubnets: props.scratchSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      description: 'stepdeploy scratch databases: isolated subnets, no route out',
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.pickSnapshot = verificationStep(scope, 'PickSnapshot', 'pick-snapshot', props)
      .bindVerificationSnapshots(props.database)
      .bindScratchNaming(props.prefix, props.scratchTtl ?? Duration.hours(6));
  }
}
