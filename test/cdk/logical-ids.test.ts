import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#testkit/synthesized.ts';

// The logical ids a deployed application stack already has. CloudFormation reads a changed id
// as "delete the old resource, create a new one": a refactor that moved any of these (a new
// Construct node adds a path segment, a renamed id changes the hash) would replace the
// database, the uploads file system, the load balancer or the secrets of every user's stack.
// Update this table only with a migration plan for deployed stacks.
const STATEFUL: Readonly<Record<string, string>> = {
  DatabaseB269D8BB: 'AWS::RDS::DBInstance',
  DatabaseSubnetGroup7D60F180: 'AWS::RDS::DBSubnetGroup',
  stepdeployapplicationDatabaseSecret0CE48D393fdaad7efa858a3daf9490cf0a702aeb:
    'AWS::SecretsManager::Secret',
  DatabaseSecretAttachmentE5D1B020: 'AWS::SecretsManager::SecretTargetAttachment',
  DatabaseLogerrorE5276335: 'AWS::Logs::LogGroup',
  DatabaseLogslowqueryEEDF8F7B: 'AWS::Logs::LogGroup',
  Uploads4F6EB0FD: 'AWS::EFS::FileSystem',
  UploadsUploadsAccessPoint39DC1AD2: 'AWS::EFS::AccessPoint',
  LoadBalancerBE9EEC3A: 'AWS::ElasticLoadBalancingV2::LoadBalancer',
  TargetGroup3D7CD9B8: 'AWS::ElasticLoadBalancingV2::TargetGroup',
  AccessLogs8B620ECA: 'AWS::S3::Bucket',
  Salts9906AE52: 'AWS::SecretsManager::Secret',
  SaltsGenerator21DA1A5D: 'Custom::WordPressSalts',
  AdminPassword4DD767F0: 'AWS::SecretsManager::Secret',
  Repository22E53BBD: 'AWS::ECR::Repository',
  Vpc8378EB38: 'AWS::EC2::VPC',
  ClusterEB0386A7: 'AWS::ECS::Cluster',
  ServiceD69D759B: 'AWS::ECS::Service',
  TaskDefinitionB36D86D9: 'AWS::ECS::TaskDefinition',
};

// Security groups and the rules between them: a rule's id is made from both groups' paths, so
// these move as soon as a group does (and a replaced database group detaches the instance).
const NETWORK: Readonly<Record<string, string>> = {
  LoadBalancerSecurityGroup3036A0FC: 'AWS::EC2::SecurityGroup',
  ServiceSecurityGroup61DE1A49: 'AWS::EC2::SecurityGroup',
  DatabaseSecurityGroup7319C0F6: 'AWS::EC2::SecurityGroup',
  VerifierSecurityGroup88B84B74: 'AWS::EC2::SecurityGroup',
  UploadsSecurityGroupC4C6E38B: 'AWS::EC2::SecurityGroup',
  DatabaseSecurityGroupfromstepdeployapplicationServiceSecurityGroupEF8B25F8330642E7B982:
    'AWS::EC2::SecurityGroupIngress',
  DatabaseSecurityGroupfromstepdeployapplicationVerifierSecurityGroup4FD01E5033066F62FBC9:
    'AWS::EC2::SecurityGroupIngress',
  UploadsSecurityGroupfromstepdeployapplicationServiceSecurityGroupEF8B25F820498FAC85E9:
    'AWS::EC2::SecurityGroupIngress',
  ServiceSecurityGroupfromstepdeployapplicationLoadBalancerSecurityGroupC0C5D2478080E3AD1D9F:
    'AWS::EC2::SecurityGroupIngress',
  ServiceSecurityGroupfromstepdeployapplicationVerifierSecurityGroup4FD01E5080801EBA93C9:
    'AWS::EC2::SecurityGroupIngress',
  LoadBalancerSecurityGrouptostepdeployapplicationServiceSecurityGroupEF8B25F88080D18CC66D:
    'AWS::EC2::SecurityGroupEgress',
};

describe('logical ids of the deployed application stack', () => {
  let resources: Record<string, { Type: string }>;
  beforeAll(() => {
    // Prepare: the app as `cdk synth` wires it (default config); bundles are not what is tested.
    const { application } = buildApp({ 'aws:cdk:bundling-stacks': [] });
    resources = Template.fromStack(application).toJSON().Resources;
  }, 120_000);

  it.each(Object.entries(STATEFUL))('keeps stateful %s (%s)', (id, type) => {
    // Act
    const found = resources[id]?.Type;
    // Assess
    expect(found).toBe(type);
  });

  it.each(Object.entries(NETWORK))('keeps security group or rule %s (%s)', (id, type) => {
    // Act
    const found = resources[id]?.Type;
    // Assess
    expect(found).toBe(type);
  });

  it('has exactly one resource of each stateful type it guards', () => {
    // Act
    const count = (type: string) =>
      Object.values(resources).filter((resource) => resource.Type === type).length;
    // Assess: a second database or file system beside the kept one is a move in disguise.
    for (const type of [
      'AWS::RDS::DBInstance',
      'AWS::EFS::FileSystem',
      'AWS::ElasticLoadBalancingV2::LoadBalancer',
      'AWS::ElasticLoadBalancingV2::TargetGroup',
      'AWS::ECS::Service',
    ]) {
      expect({ type, count: count(type) }).toEqual({ type, count: 1 });
    }
    expect(count('AWS::SecretsManager::Secret')).toBe(3);
  });
});

// The verify-restore workflow of the pipeline stack is built from parts (verify-restore/) that
// create their resources in the one VerifyRestore construct under the ids they had when it was
// one file. The state machine has a fixed name: under a new id CloudFormation would create a
// second machine of that name first, and fail.
const VERIFY_RESTORE: Readonly<Record<string, string>> = {
  VerifyRestoreStateMachine33E6DAC5: 'AWS::StepFunctions::StateMachine',
  VerifyRestoreStateMachineLogs830359B7: 'AWS::Logs::LogGroup',
  VerifyRestoreScratchSecurityGroup43555285: 'AWS::EC2::SecurityGroup',
  VerifyRestoreScratchSubnetGroup5742E150: 'AWS::RDS::DBSubnetGroup',
  VerifyRestoreSchedule047EE0E5: 'AWS::Scheduler::Schedule',
  VerifyRestoreSweeperSchedule7156BA6F: 'AWS::Scheduler::Schedule',
  VerifyRestorePickSnapshotEB977D11: 'AWS::Lambda::Function',
  VerifyRestoreVerifyData6A8545B8: 'AWS::Lambda::Function',
  VerifyRestoreVerifyApplication81A98509: 'AWS::Lambda::Function',
  VerifyRestorePublishMetrics46AE82B5: 'AWS::Lambda::Function',
  VerifyRestoreRegisterVerificationTaskDefinitionBDBC5141: 'AWS::Lambda::Function',
  VerifyRestoreSweepScratchInstances682AAB75: 'AWS::Lambda::Function',
};

describe('logical ids of the verify-restore workflow in the pipeline stack', () => {
  let resources: Record<string, { Type: string }>;
  beforeAll(() => {
    // Prepare: bundles are not what is tested.
    const { pipeline } = buildApp({ 'aws:cdk:bundling-stacks': [] });
    resources = Template.fromStack(pipeline).toJSON().Resources;
  }, 120_000);

  it.each(Object.entries(VERIFY_RESTORE))('keeps %s (%s)', (id, type) => {
    // Act
    const found = resources[id]?.Type;
    // Assess
    expect(found).toBe(type);
  });
});
