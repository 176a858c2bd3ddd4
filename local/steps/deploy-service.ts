import { DeployError } from '#commons/errors.ts';
import { gateStartedAt } from '#commons/health.ts';
import { defineStep } from '#commons/step.ts';
import { deployServiceSchema } from '#functions/deploy-service/schema.ts';
import { TaskDefinitionNotFoundError } from '../task-definitions.ts';
import type { StepContext } from './context.ts';
import { localStep } from './local-step.ts';

/**
 * DeployService (also the Rollback state): like UpdateService, records a new PRIMARY
 * deployment of the revision and returns at once while the local scheduler rolls it out
 * (new tasks first, old ones drained only once the new are healthy).
 */
export function deployService(ctx: StepContext) {
  return localStep(
    defineStep(deployServiceSchema, async (event) => {
      if (event.service !== ctx.config.service)
        throw new DeployError(`service ${event.service} not found in ${event.cluster}`);
      try {
        const deployment = await ctx.service.update(
          event.taskDefinitionArn,
          event.desiredCount !== undefined ? { desiredCount: event.desiredCount } : {},
        );
        ctx.note(
          `DeployService: ${deployment.id} rolling out ${event.taskDefinitionArn.split('/').pop()}`,
        );
        return {
          deploymentId: deployment.id,
          taskDefinitionArn: event.taskDefinitionArn,
          startedAt: gateStartedAt(deployment.createdAt, ctx.now()),
        };
      } catch (error) {
        if (error instanceof TaskDefinitionNotFoundError)
          throw new DeployError(
            `UpdateService refused ${event.taskDefinitionArn}: ${error.message}`,
            { cause: error },
          );
        throw error;
      }
    }),
  );
}
