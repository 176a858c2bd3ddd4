import { rollbackTarget } from '#commons/ledger.ts';
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
    return rollbackTarget(good, event) as unknown as Json;
  };
}
