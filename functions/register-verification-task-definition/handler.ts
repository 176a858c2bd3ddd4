import { ecsClient } from '#commons/clients/ecs.ts';
import { lambdaHandler } from '#commons/lambda-handler.ts';
import { defineStep } from '#commons/step.ts';
import { registerVerificationTaskDefinition } from './register-verification-task-definition.ts';
import { registerVerificationTaskDefinitionSchema } from './schema.ts';

/** RegisterVerificationTaskDefinition step: the backup verification's own task definition. */
export const handler = lambdaHandler(
  defineStep(registerVerificationTaskDefinitionSchema, (event) =>
    registerVerificationTaskDefinition(ecsClient, event),
  ),
);
