import { formatDuration } from '#execution/labels.ts';
import { table, truncate } from './text.ts';

/**
 * One release as the ledger tables show it: the neutral shape both the DynamoDB ledger
 * (AWS) and the file-backed ledger (local) are converted to before rendering.
 */
export interface LedgerEntry {
  readonly releaseId: string;
  readonly outcome: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  /** What was released, in a few words: `codecommit app@main 1a2b3c4`, `s3 bucket/key v…`. */
  readonly source?: string;
  readonly imageDigest?: string;
  readonly revision?: string;
  readonly startedBy?: string;
  readonly failedStep?: string;
  readonly reason?: string;
}

function durationBetween(start?: string, end?: string): number | undefined {
  if (!start || !end) return undefined;
  const ms = Date.parse(end) - Date.parse(start);
  return Number.isFinite(ms) ? ms : undefined;
}

function shortDigest(digest?: string): string {
  if (!digest) return '-';
  const at = digest.indexOf('sha256:');
  return at >= 0 ? digest.slice(at, at + 19) : truncate(digest, 19);
}

/** Renders `history`: newest first, one line per release. */
export function renderHistory(entries: readonly LedgerEntry[]): string {
  if (entries.length === 0) return 'No release is recorded in the ledger yet.';
  const rows = entries.map((entry) => [
    (entry.startedAt ?? '-').replace(/\.\d{3}Z$/, 'Z'),
    entry.outcome,
    formatDuration(durationBetween(entry.startedAt, entry.finishedAt)),
    entry.revision ?? '-',
    shortDigest(entry.imageDigest),
    truncate(entry.source ?? '-', 40),
    truncate(entry.startedBy ?? '-', 30),
    entry.failedStep
      ? truncate(`${entry.failedStep}: ${entry.reason ?? ''}`, 60)
      : truncate(entry.reason ?? '', 60),
  ]);
  return table(
    ['STARTED', 'OUTCOME', 'DURATION', 'REVISION', 'IMAGE', 'SOURCE', 'BY', 'REASON'],
    rows,
  );
}
