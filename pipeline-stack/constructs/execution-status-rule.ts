import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';

/** Props of executionStatusRule. */
export interface ExecutionStatusRuleProps {
  readonly description: string;
  /** The state machine whose executions the rule watches. */
  readonly stateMachine: sfn.IStateMachine;
  /** The execution statuses that fire the rule. */
  readonly statuses: readonly string[];
  /** The Lambda the rule invokes. */
  readonly target: lambda.IFunction;
}

/**
 * An EventBridge rule that invokes a Lambda when an execution of one state machine reaches one
 * of the given statuses; a failed delivery is retried 4 times within an hour.
 */
export function executionStatusRule(
  scope: Construct,
  id: string,
  props: ExecutionStatusRuleProps,
): events.Rule {
  return new events.Rule(scope, id, {
    description: props.description,
    eventPattern: {
      source: ['aws.states'],
      detailType: ['Step Functions Execution Status Change'],
      detail: {
        status: [...props.statuses],
        stateMachineArn: [props.stateMachine.stateMachineArn],
      },
    },
    targets: [
      new targets.LambdaFunction(props.target, {
        retryAttempts: 4,
        maxEventAge: Duration.hours(1),
      }),
    ],
  });
}
