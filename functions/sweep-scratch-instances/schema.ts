import * as z from 'zod';

/** The sweeper runs on a schedule; its input is ignored. */
export const SweepInputSchema = z.unknown();

/**
 * What the sweep deleted, what it could not delete (each with the error; the next sweep tries
 * again) and what it left for a person (no parseable expiry).
 */
export const SweepOutputSchema = z.object({
  deleted: z.array(z.string()),
  failed: z.array(z.object({ id: z.string(), error: z.string() })),
  unparseable: z.array(z.string()),
});

export type SweepOutput = z.infer<typeof SweepOutputSchema>;
