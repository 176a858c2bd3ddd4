import { z } from 'zod';
import { defineStep } from '#commons/step.ts';
import { containerLogs, docker } from '../docker.ts';
import type { Json } from '../runner.ts';
import { RunTaskError, removeTask } from '../tasks.ts';
import type { StepContext } from './context.ts';
import { localTaskArn, runTaskParametersSchema } from './ecs-parameters.ts';
import { localStep } from './local-step.ts';
import { runStepTask } from './run-task.ts';

/** The `ecs:runTask.sync` parameters InstallWordPress passes (the parts local mode reads). */
export const installRunTaskSchema = runTaskParametersSchema.extend({
  Overrides: z.object({
    ContainerOverrides: z
      .array(
        z
          .object({ Name: z.string().min(1), Command: z.array(z.string()).min(1) })
          .strict()
          .describe('only the command is overridden; the password arrives as a task secret'),
      )
      .length(1),
  }),
});

/** Role label of the one-off install task (never a task of the service). */
export const INSTALL_TASK_ROLE = 'install';

/**
 * The stopped task as `ecs:runTask.sync` returns it (DescribeTasks' Task, PascalCase): the
 * container's exit code when it ran, else only the stopped reason. Pure.
 */
export function stoppedTask(task: {
  readonly arn: string;
  readonly taskDefinitionArn: string;
  readonly containerName: string;
  readonly exitCode?: number;
  readonly stoppedReason: string;
  readonly containerReason?: string;
}): Json {
  return {
    TaskArn: task.arn,
    TaskDefinitionArn: task.taskDefinitionArn,
    LastStatus: 'STOPPED',
    StopCode: task.exitCode === undefined ? 'TaskFailedToStart' : 'EssentialContainerExited',
    StoppedReason: task.stoppedReason,
    Containers: [
      {
        Name: task.containerName,
        LastStatus: 'STOPPED',
        ...(task.exitCode !== undefined ? { ExitCode: task.exitCode } : {}),
        ...(task.containerReason ? { Reason: task.containerReason } : {}),
      },
    ],
  };
}

/**
 * InstallWordPress (`ecs:runTask.sync`): one container of the given revision, run with
 * Fargate's semantics by the same runner as the service's tasks (its secrets, the admin
 * password among them, as mode-400 files, never in the environment), its command overridden
 * (`stepdeploy-install`); waits for it to exit and answers with the stopped task. The
 * container and its secret copies are removed afterwards.
 */
export function installWordPress(ctx: StepContext) {
  return localStep(
    defineStep(installRunTaskSchema, async (params) => {
      const [override] = params.Overrides.ContainerOverrides;
      if (!override) throw new RunTaskError('InstallWordPress: no container override');
      const td = await ctx.taskDefinitions.describe(params.TaskDefinition);
      const arn = td.taskDefinitionArn ?? params.TaskDefinition;
      const task = await runStepTask(ctx, td, {
        releaseId: params.StartedBy ?? 'install',
        command: override.Command,
        role: INSTALL_TASK_ROLE,
      });
      ctx.note(`InstallWordPress: ${task.name} running ${override.Command.join(' ')}`);
      try {
        if (task.lastStatus === 'STOPPED' && task.exitCode === undefined)
          return stoppedTask({
            arn: localTaskArn(task.name),
            taskDefinitionArn: arn,
            containerName: override.Name,
            stoppedReason: task.stoppedReason ?? 'Task failed to start',
          });
        const exitCode = Number((await docker(['wait', task.id])).trim());
        // The script's own last line (it never prints the password): the container's reason.
        const lastLine = (await containerLogs(task.id, 5).catch(() => ''))
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)
          .at(-1)
          ?.slice(0, 300);
        ctx.note(`InstallWordPress: exited ${exitCode}${lastLine ? ` (${lastLine})` : ''}`);
        return stoppedTask({
          arn: localTaskArn(task.name),
          taskDefinitionArn: arn,
          containerName: override.Name,
          exitCode,
          stoppedReason: 'Essential container in task exited',
          ...(lastLine ? { containerReason: lastLine } : {}),
        });
      } finally {
        // Container, anonymous volumes and the task's secret copies.
        await removeTask(ctx.config.stateDir, task).catch(() => undefined);
      }
    }),
  );
}
