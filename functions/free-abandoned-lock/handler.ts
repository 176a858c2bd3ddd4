import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { readEnv } from '#commons/env.ts';
import { logger, metrics, tracer } from '#commons/powertools.ts';
import { releaseLock } from '#functions/release-lock/release-lock.ts';
import { abandonedRelease } from './free-abandoned-lock.ts';
import { type FreeAbandonedLockEvent, freeAbandonedLockSchema } from './schema.ts';

const env = readEnv({ LOCK_TABLE_NAME: 'string', SERVICE_NAME: 'string' });

/**
 * A release execution stopped, timed out or failed: frees the service lock if that release
 * still holds it (conditional delete), so the next release need not wait out the lease.
 */
export const handler = middy()
  .use(injectLambdaContext(logger))
  .use(captureLambdaHandler(tracer))
  .use(logMetrics(metrics))
  .use(parser({ schema: freeAbandonedLockSchema }))
  .handler(async (event: FreeAbandonedLockEvent) => {
    const release = abandonedRelease(event.detail);
    if (!release) return { released: false, reason: `execution ended ${event.detail.status}` };
    const result = await releaseLock(
      { service: env.SERVICE_NAME, releaseId: release.releaseId },
      env.LOCK_TABLE_NAME,
      release.stoppedAt ? { acquiredBefore: release.stoppedAt } : {},
    );
    logger.info('lock of an abandoned release', {
      executionArn: event.detail.executionArn,
      status: event.detail.status,
      releaseId: release.releaseId,
      ...result,
    });
    return { releaseId: release.releaseId, ...result };
  });
