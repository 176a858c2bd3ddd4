import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type { Construct } from 'constructs';
import { acknowledge } from '../../nag.ts';
import { nagResource } from '../nag-ids.ts';
import type { StepFunction } from '../step-function.ts';
import { type VerificationStepSettings, verificationStep } from './step.ts';

/** Props of {@link ScratchCleanup}. */
export interface ScratchCleanupProps extends VerificationStepSettings {
  /** Name prefix of the scratch instances. */
  readonly prefix: string;
}

/**
 * The safety net under the machine's own DeleteScratchInstance: SweepScratchInstances, run
 * hourly by EventBridge Scheduler, deletes the scratch instances whose expiry tag has passed
 * (a run that died before its cleanup). Created in `scope`, not a Construct node of its own
 * (see ScratchRestore).
 */
export class ScratchCleanup {
  readonly sweeper: StepFunction<'sweep-scratch-instances'>;
  readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, props: ScratchCleanupProps) {
    this.sweeper = verificationStep(
      scope,
      'SweepScratchInstances',
      'sweep-scratch-instances',
      props,
    ).bindScratchInstances(props.prefix);
    // Its own role, trusted only from this account; the target grants it invoke on the sweeper.
    const role = new iam.Role(scope, 'SweeperScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
      }),
    });
    this.schedule = new scheduler.Schedule(scope, 'SweeperSchedule', {
      description: 'stepdeploy: delete scratch databases whose expiry tag has passed',
      schedule: scheduler.ScheduleExpression.rate(Duration.hours(1)),
      target: new targets.LambdaInvoke(this.sweeper, { retryAttempts: 2, role }),
    });
    acknowledge(role, {
      [`AwsSolutions-IAM5[${nagResource(scope, `${this.sweeper.functionArn}:*`)}]`]:
        'The scheduler target grants invoke on the sweeper and its versions, nothing else.',
    });
  }
}
