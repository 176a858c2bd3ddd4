import * as z from 'zod';
import { stringVariable } from '#commons/env.ts';

/** RecordRelease: the ledger it writes (bindLedgerWriter). */
export const environmentSchema = z.object({
  LEDGER_TABLE_NAME: stringVariable(),
});
