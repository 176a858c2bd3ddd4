import * as z from 'zod';

/** CheckInstalled input: the site the load balancer serves. */
export const checkInstalledSchema = z.object({
  siteUrl: z.url(),
});

/** CheckInstalled input type. */
export type CheckInstalledEvent = z.infer<typeof checkInstalledSchema>;

/** What the release machine's SiteInstalled choice reads. */
export const installStateSchema = z.enum(['INSTALLED', 'NOT_INSTALLED', 'UNKNOWN']);

/** CheckInstalled output: `state` routes the release, `reason` says what `/readyz` answered. */
export const checkInstalledOutputSchema = z.object({
  state: installStateSchema,
  status: z.int(),
  reason: z.string(),
});

/** CheckInstalled output type. */
export type CheckInstalledOutput = z.infer<typeof checkInstalledOutputSchema>;
