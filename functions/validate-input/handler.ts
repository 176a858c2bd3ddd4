import { lambdaHandler } from '#commons/lambda-handler.ts';
import { logger } from '#commons/powertools.ts';
import { defineStep } from '#commons/step.ts';
import { validateInputEventSchema } from './schema.ts';
import { validateRelease } from './validate-input.ts';

/** ValidateInput step: refuses malformed input before any side effect. */
export const handler = lambdaHandler(
  defineStep(validateInputEventSchema, (event) => {
    const release = validateRelease(event.input, event);
    logger.info('release accepted', { releaseId: release.releaseId, source: release.source });
    return release;
  }),
);
