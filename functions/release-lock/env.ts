import * as z from 'zod';
import { stringVariable } from '#commons/env.ts';

/** ReleaseLock: the lock table (bindLockTable) and the cluster of the trial it stops (bindTaskStopper). */
export const environmentSchema = z.object({
  LOCK_TABLE_NAME: stringVariable(),
  CLUSTER_ARN: stringVariable(),
});
