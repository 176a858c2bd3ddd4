import { lambdaHandler } from '#commons/lambda-handler.ts';
import { defineStep } from '#commons/step.ts';
import { smokeTestSchema } from './schema.ts';
import { smokeTest } from './smoke-test.ts';

/** SmokeTest step: HTTP checks through the load balancer. */
export const handler = lambdaHandler(defineStep(smokeTestSchema, (event) => smokeTest(event)));
