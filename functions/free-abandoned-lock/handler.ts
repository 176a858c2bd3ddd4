import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { ecsClient } from '#commons/clients/ecs.ts';
import { readEnvironment } from '#commons/env.ts';
import { logger, metrics, tracer } from '#commons/powertools.ts';
import { stopReleaseTrials } from '#commons/trial-tasks.ts';
import { releaseLock } from '#functions/release-lock/release-lock.ts';
import { environmentSchema } from './env.ts';
import { abandonedRelease } from './free-abandoned-lock.ts';
import { type FreeAbandonedLockEvent, freeAbandonedLockSchema } from './schema.ts';

const env = readEnvironment(environmentSchema);

/**
 * A release execution stopped, timed out or failed: frees the service lock if that release
 * still holds it (conditional delete), so the next release need not wait out the lease, and
 * stops the trial task it left running if it ended mid-trial.
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
    const trialsStopped = await stopReleaseTrials(
      ecsClient,
      env.CLUSTER_ARN,
      release.releaseId,
      `stepdeploy: release ${release.releaseId} ended mid-trial`,
    );
    logger.info('lock and trial of an abandoned release', {
      executionArn: event.detail.executionArn,
      status: event.detail.status,
      releaseId: release.releaseId,
      ...result,
      trialsStopped,
    });
    return { releaseId: release.releaseId, ...result, trialsStopped };
  });
