import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { z } from 'zod';
import { logger, metrics, tracer } from './powertools.ts';
import type { Step } from './step.ts';

/**
 * The Lambda handler of a Task-state step, with the standard middlewares in their order:
 * the logger's Lambda context, the X-Ray handler segment, the metrics flush, then the
 * Powertools parser with the step's schema (a malformed input fails as `ParseError`, its zod
 * issues in `cause`, before the step runs). The step's own type carries the event's, so the
 * handler is given first: middy attaches the middlewares around it in the same order.
 */
export function lambdaHandler<S extends z.ZodType, O>(step: Step<S, O>) {
  return middy(step.run)
    .use(injectLambdaContext(logger))
    .use(captureLambdaHandler(tracer))
    .use(logMetrics(metrics))
    .use(parser({ schema: step.schema }));
}
