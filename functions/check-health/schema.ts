import * as z from 'zod';

/** CheckHealth input (also used by the CheckRollbackHealth state). */
export const checkHealthSchema = z.object({
  cluster: z.string().min(1),
  service: z.string().min(1),
  targetGroupArn: z.string().min(1),
  taskDefinitionArn: z.string().min(1),
  deploymentId: z.string().min(1),
  startedAt: z.string().min(1),
  policy: z.object({
    timeoutSeconds: z.number().positive(),
    maxUnhealthyPolls: z.int().positive(),
    requiredHealthyPolls: z.int().positive(),
    failedTaskThreshold: z.int().positive().optional(),
    /** The longest wait between two polls (the release's `pollIntervalSeconds`). */
    maxPollSeconds: z.int().positive().optional(),
  }),
  progress: z
    .object({
      polls: z.int().nonnegative(),
      unhealthyPolls: z.int().nonnegative(),
      unhealthyStreak: z.int().nonnegative().default(0),
      healthyStreak: z.int().nonnegative(),
    })
    .default({ polls: 0, unhealthyPolls: 0, unhealthyStreak: 0, healthyStreak: 0 }),
});

/** CheckHealth input type. */
export type CheckHealthEvent = z.infer<typeof checkHealthSchema>;
