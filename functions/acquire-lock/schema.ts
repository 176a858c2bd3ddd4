import * as z from 'zod';

/** AcquireLock input. */
export const acquireLockSchema = z.object({
  service: z.string().min(1),
  releaseId: z.string().min(1),
  startedBy: z.string().min(1),
  /** When the execution started (`$$.Execution.StartTime`): orders the releases waiting. */
  startedAt: z.iso.datetime({ offset: true }),
});

/** AcquireLock input type. */
export type AcquireLockEvent = z.infer<typeof acquireLockSchema>;
