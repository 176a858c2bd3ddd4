/**
 * A stack holding the VerifyRestoreStateMachine with the application parts it needs (VPC with
 * isolated subnets, cluster, task definition, RDS instance, topic, manifest bucket), shared by
 * the CDK assertions and the state-machine tests. cdk-nag runs on synth.
 */
import { App, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  VerifyRestoreStateMachine,
  type VerifyRestoreStateMachineProps,
} from '#stack/constructs/verify-restore-state-machine.ts';
import { acknowledge } from '#stack/nag.ts';
import { verifierVpc } from './verification-scaffold.ts';

/** Synthesizes the fixture stack (cdk-nag throws on any unacknowledged finding). */
export function synthVerifyRestoreStack(overrides: Partial<VerifyRestoreStateMachineProps> = {}): {
  stack: Stack;
  construct: VerifyRestoreStateMachine;
} {
  process.env.CDK_DOCKER ??= '/nonexistent';
  const app = new App();
  const stack = new Stack(app, 'VerifyRestoreTest', {
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  const vpc = verifierVpc(stack);
  const verifier = new ec2.SecurityGroup(stack, 'Verifier', { vpc, description: 'verifier' });
  const serviceGroup = new ec2.SecurityGroup(stack, 'ServiceGroup', { vpc, description: 'tasks' });
  const cluster = new ecs.Cluster(stack, 'Cluster', {
    vpc,
    containerInsightsV2: ecs.ContainerInsights.ENABLED,
  });
  const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Task', { family: 'test-wordpress' });
  taskDefinition.addContainer('wordpress', {
    image: ecs.ContainerImage.fromRegistry('127.0.0.1:5000/wordpress'),
    portMappings: [{ containerPort: 8080 }],
    logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'wp' }),
  });
  const database = new rds.DatabaseInstance(stack, 'Database', {
    engine: rds.DatabaseInstanceEngine.mysql({ version: rds.MysqlEngineVersion.VER_8_4_7 }),
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    credentials: rds.Credentials.fromGeneratedSecret('wordpress'),
    databaseName: 'wordpress',
    multiAz: true,
    storageEncrypted: true,
    deletionProtection: true,
    backupRetention: Duration.days(7),
    removalPolicy: RemovalPolicy.SNAPSHOT,
  });
  const topic = new sns.Topic(stack, 'Topic', { enforceSSL: true });
  const bucket = new s3.Bucket(stack, 'Manifests', {
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    encryption: s3.BucketEncryption.S3_MANAGED,
  });
  const construct = new VerifyRestoreStateMachine(stack, 'VerifyRestore', {
    prefix: 'test',
    vpc,
    database,
    databaseSecret: database.secret as NonNullable<typeof database.secret>,
    databaseName: 'wordpress',
    verifierSecurityGroup: verifier,
    taskSecurityGroups: [serviceGroup],
    cluster,
    serviceName: 'test-wordpress',
    taskDefinition,
    containerName: 'wordpress',
    topic,
    manifestBucket: bucket,
    ...overrides,
  });
  // Findings on the stand-ins for the application stack's parts, not on the construct under test.
  acknowledge(vpc, { 'AwsSolutions-VPC7': 'Test VPC; the application stack has flow logs.' });
  acknowledge(taskDefinition, {
    'AwsSolutions-ECS2': 'Test task definition; environment comes from the application stack.',
    'AwsSolutions-IAM5': 'Test task definition execution role (CDK-generated log permissions).',
  });
  acknowledge(database, {
    'AwsSolutions-SMG4': 'Test database; the application stack configures rotation.',
    'AwsSolutions-RDS11': 'Test database; the application stack chooses the port.',
    'AwsSolutions-RDS3': 'Test database is multi-AZ already; rule misfires on the stand-in.',
  });
  acknowledge(topic, { 'AwsSolutions-SNS2': 'Test topic; the pipeline stack encrypts its topic.' });
  acknowledge(bucket, {
    'AwsSolutions-S1': 'Test bucket; the pipeline stack logs access to its buckets.',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { stack, construct };
}
