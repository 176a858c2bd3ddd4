import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { AppConfig } from '../config.ts';

/** Props of {@link Network}. */
export interface NetworkProps {
  readonly config: Pick<AppConfig, 'vpcCidr' | 'azCount' | 'natGateways'>;
  /** Retention of the flow logs. */
  readonly retention: logs.RetentionDays;
}

/**
 * The VPC (public, app and isolated db subnets, flow logs), the five security groups of the
 * application and who may reach the database and the uploads file system.
 *
 * Like every part of the application stack this is not a Construct node: it creates its
 * resources directly in `scope` (the stack) under the ids they had when the stack was one
 * file, so the CloudFormation logical ids of a deployed stack stay the same (a new node would
 * add a path segment to each id, and CloudFormation would replace the database and the load
 * balancer). test/cdk/logical-ids.test.ts holds them in place.
 */
export class Network {
  readonly vpc: ec2.Vpc;
  /** The ALB's: HTTP(S) from anywhere, out to the tasks only. */
  readonly loadBalancerSecurityGroup: ec2.SecurityGroup;
  /** The WordPress tasks': in from the ALB and the trial probe, out anywhere. */
  readonly serviceSecurityGroup: ec2.SecurityGroup;
  /** The database's: MySQL from the tasks and the verifier, no egress. */
  readonly databaseSecurityGroup: ec2.SecurityGroup;
  /** The restore verifier's and the release trial probe's (a Lambda group). */
  readonly verifierSecurityGroup: ec2.SecurityGroup;
  /** The uploads file system's: NFS from the tasks, no egress. */
  readonly uploadsSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, props: NetworkProps) {
    const { config } = props;
    const flowLogGroup = new logs.LogGroup(scope, 'VpcFlowLogs', {
      retention: props.retention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const vpc = new ec2.Vpc(scope, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(config.vpcCidr),
      maxAzs: config.azCount,
      natGateways: config.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'db', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      flowLogs: {
        all: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
          trafficType: ec2.FlowLogTrafficType.ALL,
        },
      },
    });
    this.vpc = vpc;

    this.loadBalancerSecurityGroup = new ec2.SecurityGroup(scope, 'LoadBalancerSecurityGroup', {
      vpc,
      description: 'ALB: HTTP(S) from the internet, forwards to the WordPress tasks only',
      allowAllOutbound: false,
    });
    this.serviceSecurityGroup = new ec2.SecurityGroup(scope, 'ServiceSecurityGroup', {
      vpc,
      description:
        'WordPress tasks: traffic from the ALB; egress for ECR, Secrets Manager, updates',
      allowAllOutbound: true,
    });
    this.databaseSecurityGroup = new ec2.SecurityGroup(scope, 'DatabaseSecurityGroup', {
      vpc,
      description: 'RDS MySQL: only the WordPress tasks and the restore verifier',
      allowAllOutbound: false,
    });
    this.verifierSecurityGroup = new ec2.SecurityGroup(scope, 'VerifierSecurityGroup', {
      vpc,
      description: 'Backup restore verifier: reaches the database and scratch restores',
      allowAllOutbound: true,
    });
    this.uploadsSecurityGroup = new ec2.SecurityGroup(scope, 'UploadsSecurityGroup', {
      vpc,
      description: 'EFS uploads: NFS from the WordPress tasks only',
      allowAllOutbound: false,
    });

    // Each rule's logical id is made from both groups' paths: keep the groups where they are.
    // The tasks' own ingress rules are WordPressService's, next to the ALB's listener rule.
    this.databaseSecurityGroup.addIngressRule(
      this.serviceSecurityGroup,
      ec2.Port.tcp(3306),
      'MySQL from the WordPress tasks',
    );
    this.databaseSecurityGroup.addIngressRule(
      this.verifierSecurityGroup,
      ec2.Port.tcp(3306),
      'MySQL from the restore verifier',
    );
    this.uploadsSecurityGroup.addIngressRule(
      this.serviceSecurityGroup,
      ec2.Port.tcp(2049),
      'NFS from the WordPress tasks',
    );
  }
}
