import { lambdaHandler } from '#commons/lambda-handler.ts';
import { defineStep } from '#commons/step.ts';
import { imageFromBuild } from './read-build-output.ts';
import { readBuildOutputSchema } from './schema.ts';

/** ReadBuildOutput step: the image a finished build exported, or a named BuildOutputError. */
export const handler = lambdaHandler(
  defineStep(readBuildOutputSchema, (event) => imageFromBuild(event.build)),
);
