import { defineStep } from '#commons/step.ts';
import { trialStartedBy } from '#commons/trial-tasks.ts';
import { releaseLockSchema } from '#functions/release-lock/schema.ts';
import { ConditionalCheckFailedError } from '../table.ts';
import { listTasks, removeTask } from '../tasks.ts';
import type { StepContext } from './context.ts';
import { localTaskArn } from './ecs-parameters.ts';
import { localStep } from './local-step.ts';
import { TRIAL_TASK_ROLE } from './trial.ts';

/**
 * ReleaseLock: deletes the lock only when this release holds it, like the conditional
 * DeleteItem; then, like the Lambda, removes a trial task of this release still running (one
 * StopTrial could not stop), reporting rather than failing when it cannot.
 */
export function releaseLock(ctx: StepContext) {
  return localStep(
    defineStep(releaseLockSchema, async (event) => {
      let unlocked: { released: true } | { released: false; reason: string };
      try {
        await ctx.locks.delete(
          { service: event.service },
          (cur) => cur?.holder === event.releaseId,
        );
        unlocked = { released: true };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedError)) throw error;
        unlocked = {
          released: false,
          reason: `lock of ${event.service} is not held by ${event.releaseId}`,
        };
      }
      try {
        const trials = (
          await listTasks({
            stateDir: ctx.config.stateDir,
            service: ctx.config.service,
            role: TRIAL_TASK_ROLE,
          })
        ).filter((t) => t.releaseId === trialStartedBy(event.releaseId));
        for (const trial of trials) {
          await removeTask(ctx.config.stateDir, trial);
          ctx.note(`ReleaseLock: trial task ${trial.name} was still running; removed`);
        }
        return trials.length
          ? { ...unlocked, trialsStopped: trials.map((t) => localTaskArn(t.name)) }
          : unlocked;
      } catch (error) {
        return {
          ...unlocked,
          trialStopError: `the trial task of ${event.releaseId} may still run: ${error instanceof Error ? error.message : String(error)}`,
        };
      }
    }),
  );
}
