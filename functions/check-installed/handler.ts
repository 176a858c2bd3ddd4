import { lambdaHandler } from '#commons/lambda-handler.ts';
import { defineStep } from '#commons/step.ts';
import { checkInstalled } from './check-installed.ts';
import { checkInstalledSchema } from './schema.ts';

/** CheckInstalled step: is WordPress installed on the database (`/readyz` through the ALB)? */
export const handler = lambdaHandler(
  defineStep(checkInstalledSchema, (event) => checkInstalled(event)),
);
