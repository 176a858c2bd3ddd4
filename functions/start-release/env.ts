import * as z from 'zod';
import { stringVariable } from '#commons/env.ts';

/** StartRelease: the release state machine it starts and the topic that hears of skipped pushes. */
export const environmentSchema = z.object({
  RELEASE_STATE_MACHINE_ARN: stringVariable(),
  TOPIC_ARN: stringVariable(),
});
