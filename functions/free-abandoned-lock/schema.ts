import * as z from 'zod';

/**
 * The EventBridge "Step Functions Execution Status Change" event of a release execution that
 * ended (the rule passes the statuses after which it may still hold the lock). `input` is the execution
 * input as a JSON string (null when it was too large to include).
 */
export const freeAbandonedLockSchema = z.object({
  'detail-type': z.literal('Step Functions Execution Status Change'),
  detail: z.object({
    executionArn: z.string().min(1),
    name: z.string().min(1),
    status: z.string().min(1),
    input: z.string().nullish(),
    /** Epoch milliseconds. */
    stopDate: z.number().nullish(),
  }),
});

/** FreeAbandonedLock input type. */
export type FreeAbandonedLockEvent = z.infer<typeof freeAbandonedLockSchema>;
