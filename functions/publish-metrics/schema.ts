import * as z from 'zod';

/**
 * PublishMetrics input: the execution start and the whole run state, whose parts are present
 * only as far as the run got (a run that failed at PickSnapshot has no snapshot).
 */
export const publishMetricsSchema = z.object({
  executionStartTime: z.string(),
  run: z.object({
    snapshot: z.object({ snapshotCreateTime: z.string(), pickedAt: z.string() }).optional(),
    data: z.object({ connectedAt: z.string() }).optional(),
    failure: z.object({ step: z.string() }).optional(),
  }),
});

/** PublishMetrics input type. */
export type PublishMetricsEvent = z.infer<typeof publishMetricsSchema>;

/** PublishMetrics output: what was published. */
export const publishMetricsOutputSchema = z.object({
  passed: z.boolean(),
  rtoSeconds: z.number().optional(),
  rpoSeconds: z.number().optional(),
});

/** PublishMetrics output type. */
export type PublishMetricsOutput = z.infer<typeof publishMetricsOutputSchema>;
