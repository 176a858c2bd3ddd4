import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { logger, metrics, tracer } from '#commons/powertools.ts';
import { type ValidateInputEvent, validateInputEventSchema } from './schema.ts';
import { validateRelease } from './validate-input.ts';

const validateInput = async (event: ValidateInputEvent) => {
  const release = validateRelease(event.input, event);
  logger.info('release accepted', { releaseId: release.releaseId, source: release.source });
  return release;
};

/** ValidateInput step: refuses malformed input before any side effect. */
export const handler = middy()
  .use(injectLambdaContext(logger))
  .use(captureLambdaHandler(tracer))
  .use(logMetrics(metrics))
  .use(parser({ schema: validateInputEventSchema }))
  .handler(validateInput);
