import * as z from 'zod';
import { releaseTargetSchema } from '#commons/release.ts';

/** ValidateInput's event: the raw execution input plus context and stack coordinates. */
export const validateInputEventSchema = z.object({
  input: z.unknown(),
  executionName: z.string().min(1),
  startTime: z.string().min(1),
  target: releaseTargetSchema,
});

/** ValidateInput's event type. */
export type ValidateInputEvent = z.infer<typeof validateInputEventSchema>;
