import * as z from 'zod';
import { SMOKE_MAX_ATTEMPTS } from '#commons/smoke.ts';

/** SmokeTest input. */
export const smokeTestSchema = z.object({
  siteUrl: z.url(),
  attempts: z.int().min(1).max(SMOKE_MAX_ATTEMPTS),
});

/** SmokeTest input type. */
export type SmokeTestEvent = z.infer<typeof smokeTestSchema>;
