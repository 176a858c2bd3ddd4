import * as z from 'zod';

/** RecordRelease input: the whole execution state and the execution's ARN. */
export const recordReleaseSchema = z.object({
  executionArn: z.string().min(1),
  state: z.looseObject({
    release: z.looseObject({
      releaseId: z.string(),
      trigger: z.string(),
      startedBy: z.string(),
      startedAt: z.string(),
      source: z.record(z.string(), z.string()),
      target: z.looseObject({ service: z.string() }),
    }),
    outcome: z.looseObject({
      status: z.enum(['SUCCEEDED', 'FAILED', 'ROLLED_BACK', 'DIRTY']),
      step: z.string().optional(),
      error: z.string().optional(),
      reason: z.string().optional(),
    }),
  }),
});

/** RecordRelease input type. */
export type RecordReleaseEvent = z.infer<typeof recordReleaseSchema>;
