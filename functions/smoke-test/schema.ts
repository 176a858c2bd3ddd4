import { z } from 'zod';

/** SmokeTest input. */
export const smokeTestSchema = z.object({
  siteUrl: z.url(),
  attempts: z.int().min(1).max(10),
});

/** SmokeTest input type. */
export type SmokeTestEvent = z.infer<typeof smokeTestSchema>;
