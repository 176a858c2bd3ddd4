import { judgeHealth, nextPollMs, type PollTiming, waitSeconds } from '#commons/health.ts';
import { defineStep } from '#commons/step.ts';
import { checkHealthSchema } from '#functions/check-health/schema.ts';
import type { LoadBalancer } from '../load-balancer.ts';
import type { StepContext } from './context.ts';
import { localStep } from './local-step.ts';

/**
 * The poll timing of the local target group: HAProxy's settings (the template's, scaled by the
 * time factor), and the release's longest wait scaled the same way. Pure.
 */
export function localPollTiming(
  loadBalancer: Pick<LoadBalancer, 'healthCheck' | 'deregistrationDelayMs'> & {
    readonly targetGroup: { readonly timeFactor: number };
  },
  maxPollSeconds?: number,
): PollTiming {
  return {
    intervalMs: loadBalancer.healthCheck.intervalMs,
    unhealthyThreshold: loadBalancer.healthCheck.fall,
    deregistrationDelayMs: loadBalancer.deregistrationDelayMs,
    ...(maxPollSeconds === undefined
      ? {}
      : { maxPollMs: maxPollSeconds * 1000 * loadBalancer.targetGroup.timeFactor }),
  };
}

/**
 * CheckHealth (also CheckRollbackHealth): one poll of the health gate. Container state as ECS
 * Tasks, HAProxy's server state as ELBv2 target health (keyed like IP targets: 127.0.0.1 and
 * the task's host port, which is how the shared matcher finds a task's targets), the local
 * deployments as ECS Deployments — fed to the same verdict function the Lambda uses, and paced
 * by the same `nextPollMs`. The verdict carries the wait in whole seconds as on AWS; the wait
 * in milliseconds goes to `ctx.waits` under `waitState`, which the local runner waits instead
 * (a scaled half interval is 2.5 s, not a whole number).
 */
export function checkHealth(ctx: StepContext, waitState: string) {
  return localStep(
    defineStep(checkHealthSchema, async (event) => {
      const [deployments, tasks, targets] = await Promise.all([
        ctx.service.ecsDeployments(),
        ctx.service.ecsTasks(),
        ctx.loadBalancer.describeTargetHealth(),
      ]);
      const verdict = judgeHealth(
        {
          taskDefinitionArn: event.taskDefinitionArn,
          deploymentId: event.deploymentId,
          startedAt: event.startedAt,
          now: ctx.now(),
          deployments,
          tasks,
          targets,
        },
        event.policy,
        event.progress,
      );
      const waitMs = nextPollMs(
        verdict.phase,
        localPollTiming(ctx.loadBalancer, event.policy.maxPollSeconds),
      );
      ctx.waits.set(waitState, waitMs);
      ctx.note(
        `CheckHealth: ${verdict.status} — ${verdict.reason}${
          verdict.status === 'IN_PROGRESS'
            ? ` (${verdict.phase}, next poll in ${(waitMs / 1000).toFixed(1)} s)`
            : ''
        }`,
      );
      return { ...verdict, nextPollSeconds: waitSeconds(waitMs) };
    }),
  );
}
