import { releaseLockSchema } from '#functions/release-lock/schema.ts';
import type { Json } from '../runner.ts';
import { ConditionalCheckFailedError } from '../table.ts';
import type { StepContext } from './context.ts';

/** ReleaseLock: deletes the lock only when this release holds it, like the conditional DeleteItem. */
export function releaseLock(ctx: StepContext) {
  return async (raw: Json): Promise<Json> => {
    const event = releaseLockSchema.parse(raw);
    try {
      await ctx.locks.delete({ service: event.service }, (cur) => cur?.holder === event.releaseId);
      return { released: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedError)) throw error;
      return {
        released: false,
        reason: `lock of ${event.service} is not held by ${event.releaseId}`,
      };
    }
  };
}
