/**
 * The trial tasks of a release, by the `startedBy` StartTrial gives them: the one name that
 * CheckTrial, ReleaseLock and FreeAbandonedLock (and their local adapters) find them by.
 */
import { type ECSClient, ListTasksCommand, StopTaskCommand } from '@aws-sdk/client-ecs';

/**
 * The `startedBy` of a release's trial task (StartTrial's `States.Format`), by which
 * FreeAbandonedLock finds the trial an execution stopped mid-trial left running. Pure.
 */
export function trialStartedBy(releaseId: string): string {
  return `stepdeploy-trial-${releaseId}`;
}

/**
 * Stops the trial tasks of a release still running: ListTasks by the release's `startedBy`,
 * then StopTask each, with `reason`. FreeAbandonedLock calls it for an execution stopped or
 * timed out mid-trial, ReleaseLock at the end of every release (for a trial StopTrial could not
 * stop). Returns the ARNs stopped.
 */
export async function stopReleaseTrials(
  ecs: ECSClient,
  cluster: string,
  releaseId: string,
  reason: string,
): Promise<string[]> {
  const listed = await ecs.send(
    new ListTasksCommand({
      cluster,
      startedBy: trialStartedBy(releaseId),
      desiredStatus: 'RUNNING',
    }),
  );
  const arns = listed.taskArns ?? [];
  for (const task of arns) await ecs.send(new StopTaskCommand({ cluster, task, reason }));
  return arns;
}
