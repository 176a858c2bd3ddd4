import * as z from 'zod';
import { stringVariable } from '#commons/env.ts';

/** FindLastKnownGood: the ledger and its last-known-good index (bindLedgerReader). */
export const environmentSchema = z.object({
  LEDGER_TABLE_NAME: stringVariable(),
  LEDGER_GOOD_INDEX: stringVariable(),
});
