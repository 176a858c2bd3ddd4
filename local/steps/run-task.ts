import type { TaskDefinition } from '@aws-sdk/client-ecs';
import {
  type LocalTask,
  type RunTaskInput,
  runInputFromTaskDefinition,
  runTask,
} from '../tasks.ts';
import type { StepContext } from './context.ts';

/**
 * ECS RunTask for a step: one task of a registered task definition, outside the service and
 * the load balancer, on a port of this stack's range (the trial task, the install task).
 */
export function runStepTask(
  ctx: StepContext,
  td: TaskDefinition,
  task: Pick<RunTaskInput, 'releaseId' | 'role' | 'command' | 'startingCpuShares'>,
): Promise<LocalTask> {
  return runTask(
    runInputFromTaskDefinition(td, {
      stateDir: ctx.config.stateDir,
      service: ctx.config.service,
      portBase: ctx.config.taskPortBase,
      ...task,
    }),
  );
}
