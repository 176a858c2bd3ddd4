import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { sfnClient } from '#commons/clients/sfn.ts';
import { snsClient } from '#commons/clients/sns.ts';
import { readEnvironment } from '#commons/env.ts';
import { logger, tracer } from '#commons/powertools.ts';
import { environmentSchema } from './env.ts';
import { notify } from './format-notification.ts';
import { type ExecutionStatusChange, executionStatusChangeSchema } from './schema.ts';

const env = readEnvironment(environmentSchema);

/** FormatNotification: turns a release's end into a message a person can act on. */
export const handler = middy()
  .use(injectLambdaContext(logger))
  .use(captureLambdaHandler(tracer))
  .use(parser({ schema: executionStatusChangeSchema }))
  .handler(async (event: ExecutionStatusChange) => {
    const notice = await notify(event, {
      sfn: sfnClient,
      sns: snsClient,
      topicArn: env.TOPIC_ARN,
      announcingStep: env.ANNOUNCING_STEP,
    });
    logger.info(notice ? 'notice published' : 'already announced by the execution', {
      execution: event.detail.name,
      subject: notice?.subject,
    });
  });
