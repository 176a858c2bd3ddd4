/**
 * The lines a running release or image build prints on stderr as it goes, one per event:
 * a step or build phase as it starts (with the elapsed time), as it ends (with its duration)
 * or fails, and the heartbeat naming what is still running. Pure.
 */
import { formatDuration } from '#execution/labels.ts';
import type { BuildPhase, BuildPhaseEvent } from '#local/build-phases.ts';

/** `▶ DeployService (elapsed 1m 05s)`: a step or phase began, this far into the run. */
export function startedLine(name: string, elapsedMs: number): string {
  return `▶ ${name} (elapsed ${formatDuration(elapsedMs)})`;
}

/** `✓ DeployService 12s`: a step or phase ended well, after this long. */
export function succeededLine(name: string, durationMs: number | undefined): string {
  return `✓ ${name} ${formatDuration(durationMs)}`;
}

/** `✗ CheckHealth HealthCheckFailed: …`: a step or phase failed, and why. */
export function failedLine(name: string, reason: string): string {
  return `✗ ${name} ${reason}`;
}

/** The heartbeat: what is still running, this far into the run; undefined when nothing is. */
export function runningLine(names: readonly string[], elapsedMs: number): string | undefined {
  if (names.length === 0) return undefined;
  return `  … ${names.join(', ')} running (elapsed ${formatDuration(elapsedMs)})`;
}

/** How a build phase is named on its lines: `image app: Install PHP settings`. */
export function phaseLabel(phase: BuildPhase): string {
  return `image ${phase.stage}: ${phase.name}`;
}

/**
 * The line a build phase event prints, `startedAt` being when the run began: every start, a
 * failure, and an end when the phase took a second or more (the many short Packer steps and
 * Ansible tasks would otherwise double the lines for nothing).
 */
export function buildPhaseLine(event: BuildPhaseEvent, startedAt: number): string | undefined {
  const name = phaseLabel(event.phase);
  if (event.type === 'started') return startedLine(name, event.at - startedAt);
  if (event.failed) return failedLine(name, `failed after ${formatDuration(event.durationMs)}`);
  return event.durationMs >= 1000 ? succeededLine(name, event.durationMs) : undefined;
}
