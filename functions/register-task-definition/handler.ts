import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { logger, metrics, tracer } from '#commons/powertools.ts';
import { registerTaskDefinition } from './register-task-definition.ts';
import { type RegisterTaskDefinitionEvent, registerTaskDefinitionSchema } from './schema.ts';

/** RegisterTaskDefinition step: clone the running revision with the new image digest. */
export const handler = middy()
  .use(injectLambdaContext(logger))
  .use(captureLambdaHandler(tracer))
  .use(logMetrics(metrics))
  .use(parser({ schema: registerTaskDefinitionSchema }))
  .handler((event: RegisterTaskDefinitionEvent) => registerTaskDefinition(event));
