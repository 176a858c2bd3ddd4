import * as z from 'zod';

/** CheckTrial input: the one task StartTrial ran (RunTask's answer) and the gate's limits. */
export const checkTrialSchema = z.object({
  cluster: z.string().min(1),
  /** RunTask's `Tasks`: the one trial task, or none when ECS placed none (only its ARN is read). */
  tasks: z
    .array(z.object({ TaskArn: z.string().min(1) }).loose())
    .max(1)
    .transform((tasks) => tasks.map((t) => t.TaskArn)),
  /** RunTask's `Failures` (why no task was placed). */
  failures: z
    .array(
      z
        .object({ Arn: z.string().optional(), Reason: z.string().optional() })
        .loose()
        .transform((f) => ({ arn: f.Arn, reason: f.Reason })),
    )
    .default([]),
  policy: z.object({
    timeoutSeconds: z.number().positive(),
    // The ASL passes the substituted threshold as a string.
    failingChecks: z.coerce.number().int().positive(),
  }),
  progress: z
    .object({ polls: z.int().nonnegative(), failingStreak: z.int().nonnegative() })
    .default({ polls: 0, failingStreak: 0 }),
});

/** CheckTrial input type. */
export type CheckTrialEvent = z.infer<typeof checkTrialSchema>;
