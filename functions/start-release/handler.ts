import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { sfnClient } from '#commons/clients/sfn.ts';
import { snsClient } from '#commons/clients/sns.ts';
import { readEnvironment } from '#commons/env.ts';
import { logger, tracer } from '#commons/powertools.ts';
import { environmentSchema } from './env.ts';
import { type StartReleaseEvent, startReleaseEventSchema } from './schema.ts';
import { startRelease } from './start-release.ts';

const env = readEnvironment(environmentSchema);

/**
 * StartRelease: a trigger rule's target; starts one release per commit or object version and
 * announces a push or upload whose release already exists.
 */
export const handler = middy()
  .use(injectLambdaContext(logger))
  .use(captureLambdaHandler(tracer))
  .use(parser({ schema: startReleaseEventSchema }))
  .handler(async (event: StartReleaseEvent) => {
    const result = await startRelease(event, {
      sfn: sfnClient,
      stateMachineArn: env.RELEASE_STATE_MACHINE_ARN,
      sns: snsClient,
      topicArn: env.TOPIC_ARN,
    });
    logger.info(`release ${result.status}`, { ...result, trigger: event.trigger });
    return result;
  });
