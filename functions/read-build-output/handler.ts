import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import middy from '@middy/core';
import { logger } from '#commons/powertools.ts';
import { imageFromBuild } from './read-build-output.ts';
import { type ReadBuildOutputEvent, readBuildOutputSchema } from './schema.ts';

/** ReadBuildOutput step: the image a finished build exported, or a named BuildOutputError. */
export const handler = middy()
  .use(injectLambdaContext(logger))
  .use(parser({ schema: readBuildOutputSchema }))
  .handler((event: ReadBuildOutputEvent) => imageFromBuild(event.build));
