import * as z from 'zod';

/** VerifyApplication input: the one-off task started on the scratch database. */
export const VerifyApplicationInputSchema = z.object({
  taskArn: z.string().startsWith('arn:'),
});

/** PASSED when /readyz and the home page answer from the restored data; PENDING while booting. */
export const VerifyApplicationOutputSchema = z.object({
  state: z.enum(['PASSED', 'PENDING']),
  detail: z.string(),
});

export type VerifyApplicationInput = z.infer<typeof VerifyApplicationInputSchema>;
export type VerifyApplicationOutput = z.infer<typeof VerifyApplicationOutputSchema>;
