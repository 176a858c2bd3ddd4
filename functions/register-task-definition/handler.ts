import { lambdaHandler } from '#commons/lambda-handler.ts';
import { defineStep } from '#commons/step.ts';
import { registerTaskDefinition } from './register-task-definition.ts';
import { registerTaskDefinitionSchema } from './schema.ts';

/** RegisterTaskDefinition step: clone the running revision with the new image digest. */
export const handler = lambdaHandler(
  defineStep(registerTaskDefinitionSchema, (event) => registerTaskDefinition(event)),
);
