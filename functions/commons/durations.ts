import type { HistoryEvent } from '@aws-sdk/client-sfn';

/**
 * Milliseconds spent in each state, summed over visits (a polling loop visits CheckHealth many
 * times), from Step Functions execution history events. Local mode converts its runner events
 * to this shape, so the CLI, the ledger and local mode share one computation.
 */
export function stepDurations(events: readonly HistoryEvent[]): Record<string, number> {
  const open = new Map<string, number[]>();
  const totals: Record<string, number> = {};
  for (const e of events) {
    const at = e.timestamp ? new Date(e.timestamp).getTime() : undefined;
    if (at === undefined) continue;
    const entered = e.stateEnteredEventDetails?.name;
    const exited = e.stateExitedEventDetails?.name;
    if (e.type?.endsWith('StateEntered') && entered) {
      open.set(entered, [...(open.get(entered) ?? []), at]);
    } else if (e.type?.endsWith('StateExited') && exited) {
      const starts = open.get(exited);
      const start = starts?.shift();
      if (start !== undefined) totals[exited] = (totals[exited] ?? 0) + (at - start);
    }
  }
  return totals;
}
