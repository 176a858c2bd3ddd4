import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { ICluster } from 'aws-cdk-lib/aws-ecs';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ABANDONING_STATUSES } from '#functions/free-abandoned-lock/free-abandoned-lock.ts';
import { executionStatusRule } from './execution-status-rule.ts';
import { StepFunction } from './step-function.ts';

/** Props of FreeAbandonedLocks. */
export interface FreeAbandonedLocksProps {
  readonly releaseStateMachine: sfn.IStateMachine;
  readonly lockTable: ITable;
  /** The service whose lock the releases take (the lock item's key). */
  readonly serviceName: string;
  /** The cluster a release's trial task runs in (stopped if the release ended mid-trial). */
  readonly cluster: ICluster;
  readonly logRetention?: RetentionDays;
  readonly metricsService?: string;
}

/**
 * A release execution that is stopped (StopExecution), times out or fails uncaught never
 * runs its ReleaseLock: this frees the lock it still holds, so the next push need not wait a
 * lease (an hour) in WaitForLock. The delete is conditional on the holder and on the lock
 * having been taken before the execution stopped, so it never frees another release's lock.
 * The trial task a release stopped mid-trial left running is stopped too (by its startedBy,
 * which carries the release id, so never another release's trial).
 */
export class FreeAbandonedLocks extends Construct {
  readonly function: StepFunction<'free-abandoned-lock'>;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: FreeAbandonedLocksProps) {
    super(scope, id);
    this.function = new StepFunction(this, 'FreeAbandonedLock', {
      step: 'free-abandoned-lock',
      description: 'Free the release lock of a stopped, timed-out or failed release',
      environment: {
        LOCK_TABLE_NAME: props.lockTable.tableName,
        SERVICE_NAME: props.serviceName,
      },
      logRetention: props.logRetention,
      metricsService: props.metricsService,
    });
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:DeleteItem'],
        resources: [props.lockTable.tableArn],
      }),
    );
    // The trial task of a release that ended mid-trial.
    this.function.bindTaskStopper(props.cluster);
    this.rule = executionStatusRule(this, 'OnReleaseAbandoned', {
      description: 'Free the lock of a release that ended without its ReleaseLock',
      stateMachine: props.releaseStateMachine,
      statuses: ABANDONING_STATUSES,
      target: this.function,
    });
  }
}
