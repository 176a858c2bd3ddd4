import * as z from 'zod';
import { stringVariable } from '#commons/env.ts';

/** PublishMetrics: the metrics namespace and the instance dimension of the verification metrics. */
export const environmentSchema = z.object({
  METRIC_NAMESPACE: stringVariable(),
  DATABASE_INSTANCE_ID: stringVariable(),
});
