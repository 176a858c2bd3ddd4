import { defineStep } from '#commons/step.ts';
import {
  judgeTrial,
  probeTrialTask,
  type TrialTaskView,
} from '#functions/check-trial/check-trial.ts';
import { checkTrialSchema } from '#functions/check-trial/schema.ts';
import { httpGet } from '#functions/verify-application/verify-application.ts';
import { STARTING_CPU_SHARES } from '../scheduler.ts';
import { type LocalTask, listTasks, RunTaskError, removeTask } from '../tasks.ts';
import type { StepContext } from './context.ts';
import {
  containerNameOfTaskArn,
  localTaskArn,
  runTaskParametersSchema,
  stopTaskParametersSchema,
} from './ecs-parameters.ts';
import { localStep } from './local-step.ts';
import { runStepTask } from './run-task.ts';

/** Role label of the trial task: one task of a new revision, never in the load balancer. */
export const TRIAL_TASK_ROLE = 'trial';

/** A local task as CheckTrial's judgement sees a DescribeTasks task. Pure. */
export function trialView(task: LocalTask): TrialTaskView {
  return {
    taskArn: localTaskArn(task.name),
    lastStatus: task.lastStatus,
    createdAt: new Date(task.createdAt),
    ...(task.stoppedReason ? { stoppedReason: task.stoppedReason } : {}),
    containers: [
      {
        name: 'wordpress',
        ...(task.exitCode !== undefined ? { exitCode: task.exitCode } : {}),
        ...(task.containerReason ? { reason: task.containerReason } : {}),
      },
    ],
    ...(task.lastStatus === 'RUNNING' ? { address: '127.0.0.1' } : {}),
  };
}

async function trialTasks(ctx: StepContext): Promise<LocalTask[]> {
  return listTasks({
    stateDir: ctx.config.stateDir,
    service: ctx.config.service,
    role: TRIAL_TASK_ROLE,
  });
}

/**
 * StartTrial (`ecs:runTask`): one task of the new revision run with Fargate's semantics by the
 * service's runner, on its own loopback port and never added to HAProxy, at the low CPU weight
 * of a task that serves no one. Answers like RunTask: `Tasks` and `Failures`. A trial left by
 * an interrupted release (this one holds the service's lock, so no other trial is live) goes
 * first.
 */
export function startTrial(ctx: StepContext) {
  return localStep(
    defineStep(runTaskParametersSchema, async (params) => {
      for (const left of await trialTasks(ctx)) {
        ctx.note(`StartTrial: removing ${left.name}, left by an interrupted release`);
        await removeTask(ctx.config.stateDir, left);
      }
      const td = await ctx.taskDefinitions.describe(params.TaskDefinition);
      const task = await runStepTask(ctx, td, {
        releaseId: params.StartedBy ?? 'trial',
        role: TRIAL_TASK_ROLE,
        startingCpuShares: STARTING_CPU_SHARES,
      });
      ctx.note(`StartTrial: ${task.name} on 127.0.0.1:${task.port}, outside the load balancer`);
      return {
        Tasks: [
          {
            TaskArn: localTaskArn(task.name),
            TaskDefinitionArn: td.taskDefinitionArn ?? params.TaskDefinition,
            LastStatus: task.lastStatus,
            DesiredStatus: 'RUNNING',
          },
        ],
        Failures: [],
      };
    }),
  );
}

/**
 * CheckTrial: the Lambda's judgement on the local trial task — its container state, and the
 * health check path, /readyz and / asked on 127.0.0.1:<its port> with the site's Host header.
 */
export function checkTrial(ctx: StepContext) {
  return localStep(
    defineStep(checkTrialSchema, async (event) => {
      const [arn] = event.tasks;
      const local = arn
        ? (await trialTasks(ctx)).find((t) => t.name === containerNameOfTaskArn(arn))
        : undefined;
      const task: TrialTaskView | undefined =
        arn && !local
          ? {
              taskArn: arn,
              lastStatus: 'STOPPED',
              stoppedReason: 'the trial container is gone',
              containers: [],
            }
          : local && trialView(local);
      const site = new URL(ctx.loadBalancer.url);
      const healthPath = ctx.loadBalancer.healthCheck.path;
      const answers = await probeTrialTask(healthPath, task, (path) =>
        httpGet('127.0.0.1', local?.port ?? 0, path, site.host),
      );
      const verdict = judgeTrial(
        healthPath,
        { task, failures: event.failures, ...answers, now: ctx.now() },
        event.policy,
        event.progress,
      );
      ctx.note(`CheckTrial: ${verdict.status} — ${verdict.reason}`);
      return verdict;
    }),
  );
}

/**
 * StopTrial / StopRefusedTrial (`ecs:stopTask`): the trial task goes, with its container, its
 * volumes and its secret copies (nothing of a trial outlives it). Answers like StopTask.
 */
export function stopTrial(ctx: StepContext) {
  return localStep(
    defineStep(stopTaskParametersSchema, async (params) => {
      const name = containerNameOfTaskArn(params.Task);
      const task = (await trialTasks(ctx)).find((t) => t.name === name);
      if (!task) throw new RunTaskError(`StopTask: no trial task ${params.Task}`);
      await removeTask(ctx.config.stateDir, task);
      ctx.note(`${params.Reason ?? 'StopTask'}: ${task.name} removed`);
      return { Task: { TaskArn: params.Task, LastStatus: 'STOPPED', DesiredStatus: 'STOPPED' } };
    }),
  );
}
