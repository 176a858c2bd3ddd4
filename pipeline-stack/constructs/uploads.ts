import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import type { Construct } from 'constructs';
import { CONTAINER_UID } from './wordpress-contract.ts';

/** Props of {@link Uploads}. */
export interface UploadsProps {
  readonly vpc: ec2.IVpc;
  readonly securityGroup: ec2.ISecurityGroup;
}

/**
 * The EFS file system behind WordPress's uploads directory, kept when the stack goes, and the
 * access point that presents it to the non-root container as its own. Created in `scope`
 * under the ids it always had (see Network for why no Construct node of its own).
 */
export class Uploads {
  readonly fileSystem: efs.FileSystem;
  readonly accessPoint: efs.AccessPoint;

  constructor(scope: Construct, props: UploadsProps) {
    this.fileSystem = new efs.FileSystem(scope, 'Uploads', {
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroup: props.securityGroup,
      encrypted: true,
      performanceMode: efs.PerformanceMode.GENERAL_PURPOSE,
      throughputMode: efs.ThroughputMode.ELASTIC,
      lifecyclePolicy: efs.LifecyclePolicy.AFTER_30_DAYS,
      enableAutomaticBackups: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.accessPoint = this.fileSystem.addAccessPoint('UploadsAccessPoint', {
      path: '/uploads',
      createAcl: {
        ownerUid: String(CONTAINER_UID),
        ownerGid: String(CONTAINER_UID),
        permissions: '0755',
      },
      posixUser: { uid: String(CONTAINER_UID), gid: String(CONTAINER_UID) },
    });
  }
}
