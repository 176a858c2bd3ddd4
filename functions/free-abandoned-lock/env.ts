import * as z from 'zod';
import { stringVariable } from '#commons/env.ts';

/** FreeAbandonedLock: the lock table, the service whose lock it frees, the cluster of the trials it stops. */
export const environmentSchema = z.object({
  LOCK_TABLE_NAME: stringVariable(),
  SERVICE_NAME: stringVariable(),
  CLUSTER_ARN: stringVariable(),
});
