import { judgeHealth } from '#commons/health.ts';
import { checkHealthSchema } from '#functions/check-health/schema.ts';
import type { Json } from '../runner.ts';
import type { StepContext } from './context.ts';

/**
 * CheckHealth (also CheckRollbackHealth): one poll of the health gate. Container state as ECS
 * Tasks, HAProxy's server state as ELBv2 target health (keyed like IP targets: 127.0.0.1 and
 * the task's host port, which is how the shared matcher finds a task's targets), the local
 * deployments as ECS Deployments — fed to the same verdict function the Lambda uses.
 */
export function checkHealth(ctx: StepContext) {
  return async (raw: Json): Promise<Json> => {
    const event = checkHealthSchema.parse(raw);
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
    ctx.note(`CheckHealth: ${verdict.status} — ${verdict.reason}`);
    return verdict as unknown as Json;
  };
}
