import * as z from 'zod';

/** VerifyApplication input: the one-off task started on the scratch database. */
export const verifyApplicationSchema = z.object({
  taskArn: z.string().startsWith('arn:'),
});

/** VerifyApplication input type. */
export type VerifyApplicationEvent = z.infer<typeof verifyApplicationSchema>;

/** PASSED when /readyz and the home page answer from the restored data; PENDING while booting. */
export const verifyApplicationOutputSchema = z.object({
  state: z.enum(['PASSED', 'PENDING']),
  detail: z.string(),
});

/** VerifyApplication output type. */
export type VerifyApplicationOutput = z.infer<typeof verifyApplicationOutputSchema>;
