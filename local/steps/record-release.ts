import { stepDurations } from '#commons/durations.ts';
import { buildLedgerRecord, type ReleaseState } from '#commons/ledger.ts';
import { defineStep } from '#commons/step.ts';
import { recordReleaseSchema } from '#functions/record-release/schema.ts';
import { toHistoryEvents } from '../runner.ts';
import type { StepContext } from './context.ts';
import { localStep } from './local-step.ts';

/**
 * RecordRelease: the shared ledger record (same fields, same known-good attributes) with
 * per-step durations from this execution's events so far, written to the local ledger.
 */
export function recordRelease(ctx: StepContext) {
  return localStep(
    defineStep(recordReleaseSchema, async (event) => {
      const durations = stepDurations(toHistoryEvents(ctx.events));
      const record = buildLedgerRecord(
        event.state as unknown as ReleaseState,
        durations,
        ctx.now(),
      );
      // JSON round trip drops undefined fields, as DynamoDB's marshalling does.
      await ctx.ledger.put(JSON.parse(JSON.stringify(record)));
      return {
        releaseId: record.releaseId,
        outcome: record.outcome,
        finishedAt: record.finishedAt,
      };
    }),
  );
}
