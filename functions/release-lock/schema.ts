import * as z from 'zod';

/** ReleaseLock input. */
export const releaseLockSchema = z.object({
  service: z.string().min(1),
  releaseId: z.string().min(1),
});

/** ReleaseLock input type. */
export type ReleaseLockEvent = z.infer<typeof releaseLockSchema>;
