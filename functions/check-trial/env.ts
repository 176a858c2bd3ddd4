import * as z from 'zod';
import { numberVariable, stringVariable } from '#commons/env.ts';

/** CheckTrial: the container port, the site's Host header and the health path it asks the trial task. */
export const environmentSchema = z.object({
  APP_PORT: numberVariable(),
  SITE_HOST: stringVariable(),
  HEALTH_CHECK_PATH: stringVariable(),
});
