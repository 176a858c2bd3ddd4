import { NoKnownGoodError } from '#commons/errors.ts';
import { chooseLastKnownGood } from '#commons/ledger.ts';
import { findLastKnownGoodSchema } from '#functions/find-last-known-good/schema.ts';
import type { Json } from '../runner.ts';
import type { StepContext } from './context.ts';

/**
 * FindLastKnownGood: reads the service's releases that proved a revision healthy (the local
 * ledger's equivalent of the sparse `goodAt` index: newest first, ten) and lets the shared
 * pure function choose.
 */
export function findLastKnownGood(ctx: StepContext) {
  return async (raw: Json): Promise<Json> => {
    const event = findLastKnownGoodSchema.parse(raw);
    const good = (await ctx.ledger.query(event.service, { filter: (r) => r.goodAt !== undefined }))
      .sort((a, b) => (b.goodAt ?? '').localeCompare(a.goodAt ?? ''))
      .slice(0, 10);
    const choice = chooseLastKnownGood(
      good.filter((r) => r.releaseId !== event.releaseId),
      event.failedTaskDefinitionArn,
      event.previousTaskDefinitionArn,
    );
    if (!choice) {
      throw new NoKnownGoodError(
        `no revision of ${event.service} other than ${event.failedTaskDefinitionArn} is known to be healthy`,
      );
    }
    return choice as unknown as Json;
  };
}
