import { formatDuration, outcomeLabel } from '#execution/labels.ts';
import type { ExecutionProgress, StepStatus } from '#execution/progress.ts';

/** ISO-8601 in UTC without milliseconds: stable and sortable. */
export function formatTime(epochMs: number | undefined): string {
  if (epochMs === undefined) return '-';
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Renders rows as a left-aligned table with a header line; cells are single-line. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const clean = rows.map((row) => row.map((cell) => cell.replace(/\s+/g, ' ').trim()));
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...clean.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [line(headers), ...clean.map(line)].join('\n');
}

/** Shortens text to `max` characters with an ellipsis, for table cells. */
export function truncate(text: string, max: number): string {
  const single = text.replace(/\s+/g, ' ').trim();
  return single.length <= max ? single : `${single.slice(0, max - 1)}…`;
}

const STATUS_MARK: Record<StepStatus, string> = {
  succeeded: '✓',
  failed: '✗',
  running: '▶',
  interrupted: '■',
};

/** Header facts shown above the step table. */
export interface ProgressHeader {
  readonly title: string;
  readonly name: string;
  readonly consoleUrl?: string;
}

/** Renders `status`: a few header lines, then one table row per step. */
export function renderProgress(header: ProgressHeader, progress: ExecutionProgress): string {
  const lines = [`${header.title} ${header.name}`];
  lines.push(`  outcome   ${outcomeLabel(progress.outcome)}`);
  lines.push(`  started   ${formatTime(progress.startedAt)}`);
  lines.push(
    `  duration  ${formatDuration(progress.durationMs)}${progress.status === 'RUNNING' ? ' so far' : ''}`,
  );
  if (progress.currentSteps.length > 0) {
    lines.push(`  current   ${progress.currentSteps.join(', ')}`);
  }
  if (progress.failure) {
    const reason = progress.failure.cause ? `: ${progress.failure.cause}` : '';
    lines.push(`  failed at ${progress.failure.step} — ${progress.failure.error}${reason}`);
    // The execution's cause is the whole outcome (what it was rolled back to, a schema change
    // the rollback kept), which the failing step's reason alone does not say.
    if (progress.cause && progress.cause !== progress.failure.cause)
      lines.push(`  result    ${progress.cause}`);
  } else if (progress.error) {
    const reason = progress.cause ? `: ${progress.cause}` : '';
    lines.push(`  error     ${progress.error}${reason}`);
  }
  if (header.consoleUrl) lines.push(`  console   ${header.consoleUrl}`);
  lines.push('');
  const rows = progress.steps.map((row) => {
    const notes: string[] = [];
    if (row.visits > 1) notes.push(`${row.visits} visits`);
    if (row.retries > 0) notes.push(`${row.retries} retries`);
    if (row.error) notes.push(truncate(`${row.error}${row.cause ? `: ${row.cause}` : ''}`, 100));
    return [
      `${STATUS_MARK[row.status]} ${row.step}`,
      row.status,
      formatDuration(row.durationMs),
      notes.join('; '),
    ];
  });
  lines.push(
    progress.steps.length === 0
      ? '  (no step has started yet)'
      : table(['STEP', 'STATUS', 'DURATION', 'NOTE'], rows)
          .split('\n')
          .map((line) => `  ${line}`)
          .join('\n'),
  );
  return lines.join('\n');
}
