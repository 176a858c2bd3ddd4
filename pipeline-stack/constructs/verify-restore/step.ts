import { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { StepName } from '../handler-environments.ts';
import { StepFunction } from '../step-function.ts';

/** What every Lambda of the backup verification shares. */
export interface VerificationStepSettings {
  /** Days to keep the function's logs (StepFunction's default: one month). */
  readonly logRetention?: RetentionDays;
  /** `service` dimension of the function's Powertools metrics (see StepFunction). */
  readonly metricsService?: string;
}

/**
 * Where the steps that reach a database or the one-off task run: in the VPC with the verifier
 * group, the only group the scratch instance admits.
 */
export interface VerifierPlacement {
  readonly vpc: ec2.IVpc;
  /** Need a route to the AWS APIs the step calls (ECR, S3, Secrets Manager, ECS). */
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
}

/**
 * One Lambda step of the backup verification, created in `scope` under `id`: one minute out of
 * any VPC, or, with `placement`, five minutes and 512 MiB in the VPC with the verifier group.
 * Its grants and environment come from the StepFunction bindX() methods the caller chains.
 */
export function verificationStep<S extends StepName>(
  scope: Construct,
  id: string,
  step: S,
  settings: VerificationStepSettings,
  placement?: VerifierPlacement,
): StepFunction<S> {
  return new StepFunction(scope, id, {
    step,
    description: `stepdeploy backup verification: ${id}`,
    logRetention: settings.logRetention,
    metricsService: settings.metricsService,
    ...(placement
      ? {
          timeout: Duration.minutes(5),
          memorySize: 512,
          vpc: placement.vpc,
          vpcSubnets: placement.subnets,
          securityGroups: [placement.securityGroup],
        }
      : { timeout: Duration.minutes(1) }),
  });
}
