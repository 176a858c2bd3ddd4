import * as z from 'zod';
import { numberVariable, stringVariable } from '#commons/env.ts';

/** AcquireLock: the lock table and the lease a taken lock holds (bindLockTable). */
export const environmentSchema = z.object({
  LOCK_TABLE_NAME: stringVariable(),
  LOCK_LEASE_SECONDS: numberVariable(),
});
