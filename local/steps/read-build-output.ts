import { defineStep } from '#commons/step.ts';
import { imageFromBuild } from '#functions/read-build-output/read-build-output.ts';
import { readBuildOutputSchema } from '#functions/read-build-output/schema.ts';
import { localStep } from './local-step.ts';

/**
 * ReadBuildOutput: the Lambda's own pure function on the Build the local BuildImage returned
 * (the same shape as codebuild:startBuild.sync), so a build that exported no image fails
 * with the same BuildOutputError locally.
 */
export function readBuildOutput() {
  return localStep(defineStep(readBuildOutputSchema, (event) => imageFromBuild(event.build)));
}
