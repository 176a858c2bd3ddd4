/**
 * Application stand-ins the verify-restore tests share: the VPC layout of the application stack
 * (public, app and isolated db subnets) and imported parts that add no resource of their own
 * (the database, its login secret, the cluster) besides a task definition.
 */
import type { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/** A VPC with the application stack's three subnet kinds, as `Vpc`. */
export function verifierVpc(stack: Stack): ec2.Vpc {
  return new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 1,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
      { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      { name: 'db', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ],
  });
}

/** `test-wordpress` (db.example.internal:3306), its secret, cluster `test` and a task definition. */
export function importedParts(stack: Stack) {
  const { account, region } = stack;
  const database = rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, 'Database', {
    instanceIdentifier: 'test-wordpress',
    instanceEndpointAddress: 'db.example.internal',
    port: 3306,
    securityGroups: [],
  });
  const secret = secretsmanager.Secret.fromSecretCompleteArn(
    stack,
    'Secret',
    `arn:aws:secretsmanager:${region}:${account}:secret:test-login-AbCdEf`,
  );
  const cluster = ecs.Cluster.fromClusterArn(
    stack,
    'Cluster',
    `arn:aws:ecs:${region}:${account}:cluster/test`,
  );
  const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Task', { family: 'test-wordpress' });
  taskDefinition.addContainer('wordpress', {
    image: ecs.ContainerImage.fromRegistry('127.0.0.1:5000/wordpress'),
    logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'wp' }),
  });
  return { database, secret, cluster, taskDefinition };
}
