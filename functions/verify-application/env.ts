import * as z from 'zod';
import { numberVariable, stringVariable } from '#commons/env.ts';

/** VerifyApplication: the cluster of the one-off task, the port and Host header it probes. */
export const environmentSchema = z.object({
  CLUSTER_ARN: stringVariable(),
  APP_PORT: numberVariable(),
  SITE_HOST: stringVariable(),
});
