import * as z from 'zod';

/**
 * SweepScratchInstances input: whatever the hourly schedule delivers (its target sets no input,
 * so EventBridge Scheduler sends its default notification); the sweep reads none of it, so
 * nothing in it can be refused.
 */
export const sweepScratchInstancesSchema = z.unknown();

/** SweepScratchInstances input type. */
export type SweepScratchInstancesEvent = z.infer<typeof sweepScratchInstancesSchema>;

/**
 * SweepScratchInstances output: what the sweep deleted, what it could not delete (each with the
 * error; the next sweep tries again) and what it left for a person (no parseable expiry).
 */
export const sweepScratchInstancesOutputSchema = z.object({
  deleted: z.array(z.string()),
  failed: z.array(z.object({ id: z.string(), error: z.string() })),
  unparseable: z.array(z.string()),
});

/** SweepScratchInstances output type. */
export type SweepScratchInstancesOutput = z.infer<typeof sweepScratchInstancesOutputSchema>;
