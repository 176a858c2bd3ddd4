import type { TaskDefinition } from 'aws-cdk-lib/aws-ecs';
import { type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';

/**
 * iam:PassRole on a task definition's task and execution roles, only to ECS tasks: what
 * registering a revision of it (RegisterTaskDefinition) or running one (RunTask) needs.
 */
export function passTaskRolesStatement(
  taskDefinition: TaskDefinition,
  sid?: string,
): PolicyStatement {
  const roles = [taskDefinition.taskRole, taskDefinition.executionRole].filter(
    (role): role is IRole => role !== undefined,
  );
  return new PolicyStatement({
    ...(sid ? { sid } : {}),
    actions: ['iam:PassRole'],
    resources: roles.map((role) => role.roleArn),
    conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
  });
}
