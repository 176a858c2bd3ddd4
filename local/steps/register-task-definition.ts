import { TaskDefinitionError } from '#commons/errors.ts';
import { defineStep } from '#commons/step.ts';
import { cloneTaskDefinition, pinImage } from '#commons/task-definition.ts';
import { registerTaskDefinitionSchema } from '#functions/register-task-definition/schema.ts';
import type { StepContext } from './context.ts';
import { localStep } from './local-step.ts';

/**
 * RegisterTaskDefinition: the service's current revision cloned by the shared pure function
 * (image pinned by digest, secrets kept as references) and stored as the next local revision.
 * Returns only ARNs, like the Lambda.
 */
export function registerTaskDefinition(ctx: StepContext) {
  return localStep(
    defineStep(registerTaskDefinitionSchema, async (event) => {
      const service = await ctx.service.describe();
      const previous = service?.taskDefinition;
      if (!previous)
        throw new TaskDefinitionError(
          `service ${event.service} in ${event.cluster} is not usable: not found (run \`stepdeploy local up\`)`,
        );
      const current = await ctx.taskDefinitions.describe(previous);
      const image = pinImage(event.imageUri, event.imageDigest);
      const registration = cloneTaskDefinition(
        { taskDefinition: current },
        event.containerName,
        image,
      );
      const td = await ctx.taskDefinitions.register(registration);
      if (!td.taskDefinitionArn)
        throw new TaskDefinitionError('RegisterTaskDefinition returned no ARN');
      ctx.note(
        `RegisterTaskDefinition: ${td.family}:${td.revision} (from ${previous.split('/').pop()})`,
      );
      return {
        taskDefinitionArn: td.taskDefinitionArn,
        previousTaskDefinitionArn: previous,
        family: td.family ?? registration.family ?? '',
        revision: td.revision ?? 0,
        image,
      };
    }),
  );
}
