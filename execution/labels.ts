// How an execution is put in words for people (durations, outcomes): the same words in the
// command line's displays and in the release notifications the Lambdas send.
import type { Outcome } from './progress.ts';

/** Formats a duration the way people read it: 0.4s, 42s, 3m 05s, 1h 02m. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms < 1000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

const OUTCOME_LABEL: Record<Outcome, string> = {
  running: 'RUNNING',
  succeeded: 'SUCCEEDED',
  failed: 'FAILED',
  'rolled-back': 'ROLLED BACK (failed; service back on the last known-good revision)',
  'failure-dirty': 'FAILURE DIRTY (rollback failed: the service needs a person now)',
  'timed-out': 'TIMED OUT',
  aborted: 'ABORTED',
};

/** Human label for an outcome, used by `status`, `history` and notifications. */
export function outcomeLabel(outcome: Outcome): string {
  return OUTCOME_LABEL[outcome];
}
