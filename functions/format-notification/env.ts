import * as z from 'zod';
import { stringVariable } from '#commons/env.ts';

/** FormatNotification: the topic it publishes to and the state that announces a release itself. */
export const environmentSchema = z.object({
  TOPIC_ARN: stringVariable(),
  ANNOUNCING_STEP: stringVariable(),
});
