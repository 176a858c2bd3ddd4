import * as z from 'zod';

/** The EventBridge "Step Functions Execution Status Change" event fields the notice uses. */
export const executionStatusChangeSchema = z.object({
  'detail-type': z.literal('Step Functions Execution Status Change'),
  region: z.string(),
  detail: z.object({
    executionArn: z.string(),
    stateMachineArn: z.string(),
    name: z.string(),
    status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']),
    startDate: z.number().nullish(),
    stopDate: z.number().nullish(),
    input: z.string().nullish(),
    output: z.string().nullish(),
    error: z.string().nullish(),
    cause: z.string().nullish(),
  }),
});

/** FormatNotification's event type. */
export type ExecutionStatusChange = z.infer<typeof executionStatusChangeSchema>;
