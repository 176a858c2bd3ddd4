/**
 * The rollout of one release split into what a visitor feels — when the first new task serves,
 * when all of them do, when the old ones are gone — and when the health gate let the release
 * go on, each set against its floor from the target group settings in force. Everything is
 * read from what the system recorded: the scheduler's service events, HAProxy's check log
 * (each server's UP, with HAProxy's own timestamp) and the execution's events. Pure.
 */
import type { ServiceEvent } from '#local/scheduler.ts';

/** A server of the load balancer coming UP (its `rise`-th passing check), from the check log. */
export interface ServerUp {
  readonly at: number;
  readonly server: string;
}

// `is UP.` is the rise-th passing check. The runtime API's own lines are not: a server added
// and moved through drain logs `is UP/DRAIN (leaving forced maintenance)` before any check.
const UP_LINE =
  /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d) Server ([^/\s]+)\/(\S+) is UP[.,]/;

/**
 * The `Server <backend>/<name> is UP.` lines of HAProxy's check ring (`show events`): a server
 * brought UP by its health checks, not by a runtime API command. Pure.
 */
export function parseServerUps(text: string): ServerUp[] {
  return text.split('\n').flatMap((line) => {
    const m = UP_LINE.exec(line.trim());
    if (!m) return [];
    const [, time, frac = '', zone, , server] = m as unknown as string[];
    const at = Date.parse(`${time}${frac.slice(0, 4)}${zone}`);
    return Number.isNaN(at) ? [] : [{ at, server: server as string }];
  });
}

/** The target group settings in force (as the local load balancer plays them), in ms. */
export interface FloorSettings {
  /** A fresh container of the new image: `docker run` to its first 200 on the health path. */
  readonly containerReadyMs: number;
  readonly healthyThreshold: number;
  readonly intervalMs: number;
  readonly deregistrationDelayMs: number;
}

/** The floors: ready + rise × interval for serving; + the deregistration delay for gone. Pure. */
export function rolloutFloors(s: FloorSettings): { serving: number; gone: number } {
  const serving = s.containerReadyMs + s.healthyThreshold * s.intervalMs;
  return { serving, gone: serving + s.deregistrationDelayMs };
}

/** The part of an execution event the phases read. */
export interface PhaseExecutionEvent {
  readonly type: string;
  readonly timestamp: number;
  readonly state?: { readonly name?: string; readonly output?: unknown };
}

/** Milliseconds from the release's deployment to each moment; undefined when not seen. */
export interface RolloutPhases {
  readonly deploymentCreatedAt: number;
  readonly firstNewServingMs?: number;
  readonly allNewServingMs?: number;
  readonly oldGoneMs?: number;
  readonly gatePassedMs?: number;
  /** CheckHealth polls of the release's gate. */
  readonly healthPolls: number;
}

/**
 * The phases of the release's first deployment: its new tasks (`task-started`/`task-replaced`
 * of that deployment) coming UP in the load balancer — the first, and the one that made the
 * desired count serve — its drain finished (old tasks deregistered, stopped and removed), and
 * the CheckHealth exit whose verdict was HEALTHY. Undefined without a deployment. Pure.
 */
export function rolloutPhases(input: {
  readonly serviceEvents: readonly ServiceEvent[];
  readonly ups: readonly ServerUp[];
  readonly events: readonly PhaseExecutionEvent[];
  readonly desiredCount: number;
}): RolloutPhases | undefined {
  const created = input.serviceEvents.find((e) => e.type === 'deployment-created');
  if (!created) return undefined;
  const id = created.deploymentId;
  const from = created.at;
  const newTasks = new Set(
    input.serviceEvents.flatMap((e) =>
      (e.type === 'task-started' || e.type === 'task-replaced') && e.deploymentId === id
        ? [e.task]
        : [],
    ),
  );
  const firstUp = new Map<string, number>();
  for (const up of input.ups)
    if (newTasks.has(up.server) && up.at >= from && !firstUp.has(up.server))
      firstUp.set(up.server, up.at);
  const upTimes = [...firstUp.values()].sort((a, b) => a - b);
  const gone = input.serviceEvents.find(
    (e) => e.type === 'drain-finished' && e.deploymentId === id,
  );
  const checks = input.events.filter((e) => e.state?.name === 'CheckHealth');
  const passed = checks.find(
    (e) =>
      e.type === 'StateExited' &&
      (e.state?.output as { deploy?: { health?: { status?: string } } } | undefined)?.deploy?.health
        ?.status === 'HEALTHY',
  );
  const since = (at: number | undefined) => (at === undefined ? undefined : at - from);
  return {
    deploymentCreatedAt: from,
    ...(upTimes.length > 0 ? { firstNewServingMs: since(upTimes[0]) } : {}),
    ...(upTimes.length >= input.desiredCount
      ? { allNewServingMs: since(upTimes[input.desiredCount - 1]) }
      : {}),
    ...(gone ? { oldGoneMs: since(gone.at) } : {}),
    ...(passed ? { gatePassedMs: since(passed.timestamp) } : {}),
    healthPolls: checks.filter((e) => e.type === 'StateEntered').length,
  };
}
