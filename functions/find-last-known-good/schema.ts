import * as z from 'zod';

/** FindLastKnownGood input. */
export const findLastKnownGoodSchema = z.object({
  service: z.string().min(1),
  releaseId: z.string().min(1),
  failedTaskDefinitionArn: z.string().min(1),
  previousTaskDefinitionArn: z.string().min(1),
});

/** FindLastKnownGood input type. */
export type FindLastKnownGoodEvent = z.infer<typeof findLastKnownGoodSchema>;
