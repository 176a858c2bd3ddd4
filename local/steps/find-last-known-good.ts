import { rollbackTarget } from '#commons/ledger.ts';
import { defineStep } from '#commons/step.ts';
import { findLastKnownGoodSchema } from '#functions/find-last-known-good/schema.ts';
import type { StepContext } from './context.ts';
import { localStep } from './local-step.ts';

/**
 * FindLastKnownGood: reads the service's releases that proved a revision healthy (the local
 * ledger's equivalent of the sparse `goodAt` index: newest first, ten) and lets the shared
 * pure function choose.
 */
export function findLastKnownGood(ctx: StepContext) {
  return localStep(
    defineStep(findLastKnownGoodSchema, async (event) => {
      const good = (
        await ctx.ledger.query(event.service, { filter: (r) => r.goodAt !== undefined })
      )
        .sort((a, b) => (b.goodAt ?? '').localeCompare(a.goodAt ?? ''))
        .slice(0, 10);
      return rollbackTarget(good, event);
    }),
  );
}
