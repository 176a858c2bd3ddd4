import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { ecsClient } from '#commons/clients/ecs.ts';
import { logger, metrics, tracer } from '#commons/powertools.ts';
import { registerVerificationTaskDefinition } from './register-verification-task-definition.ts';
import {
  type RegisterVerificationTaskDefinitionEvent,
  registerVerificationTaskDefinitionSchema,
} from './schema.ts';

/** RegisterVerificationTaskDefinition step: the backup verification's own task definition. */
export const handler = middy()
  .use(injectLambdaContext(logger))
  .use(captureLambdaHandler(tracer))
  .use(logMetrics(metrics))
  .use(parser({ schema: registerVerificationTaskDefinitionSchema }))
  .handler((event: RegisterVerificationTaskDefinitionEvent) =>
    registerVerificationTaskDefinition(ecsClient, event),
  );
