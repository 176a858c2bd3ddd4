import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { rdsClient } from '#commons/clients/rds.ts';
import { logger } from '#commons/powertools.ts';
import type { SweepOutput } from './schema.ts';
import { sweep, sweepVerdict } from './sweep-scratch-instances.ts';

const run = async (): Promise<SweepOutput> => {
  const out = await sweep(rdsClient, new Date());
  if (out.unparseable.length > 0) {
    logger.warn('scratch instances without a parseable expiry tag left alone', {
      instances: out.unparseable,
    });
  }
  if (out.failed.length > 0) {
    logger.error('scratch instances not deleted', { failed: out.failed, deleted: out.deleted });
  } else {
    logger.info('scratch sweep done', { deleted: out.deleted });
  }
  return sweepVerdict(out);
};

/** SweepScratchInstances Lambda (scheduled). */
export const handler = middy(run).use(injectLambdaContext(logger));
