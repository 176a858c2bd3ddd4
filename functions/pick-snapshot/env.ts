import * as z from 'zod';
import { numberVariable, stringVariable } from '#commons/env.ts';

/** PickSnapshot: the live instance whose snapshots it picks from, and the scratch instance name prefix and lifetime. */
export const environmentSchema = z.object({
  DATABASE_INSTANCE_ID: stringVariable(),
  SCRATCH_PREFIX: stringVariable(),
  SCRATCH_TTL_MINUTES: numberVariable(),
});
