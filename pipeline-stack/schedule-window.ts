/**
 * Pure checks of an EventBridge Scheduler expression against the RDS preferred backup window
 * (both in UTC): a verification that starts inside the window meets an instance that is
 * `backing-up` and an automated snapshot still being made.
 */

/** A daily window `hh:mm-hh:mm` (UTC), as minutes after midnight; `end` may be past midnight. */
export interface DailyWindow {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** Parses an RDS preferred backup window (`hh24:mi-hh24:mi`, UTC); undefined if malformed. */
export function parseDailyWindow(text: string): DailyWindow | undefined {
  const m = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  if (!m) return undefined;
  const start = Number(m[1]) * 60 + Number(m[2]);
  let end = Number(m[3]) * 60 + Number(m[4]);
  if (end <= start) end += 24 * 60;
  return { start, end, text };
}

/** True when the minute of the day `t` (0..1439) falls inside the window (start inclusive). */
export function insideWindow(t: number, window: DailyWindow): boolean {
  return (
    (t >= window.start && t < window.end) ||
    (t + 24 * 60 >= window.start && t + 24 * 60 < window.end)
  );
}

/** Expands one cron field (`*`, `5`, `1-3`, `0/15`, `*\/10`, `1,4-6`) over min..max; undefined if unsupported. */
function expandField(field: string, min: number, max: number): number[] | undefined {
  const out = new Set<number>();
  for (const part of field.split(',')) {
    const m = /^(\*|\d+)(?:-(\d+))?(?:\/(\d+))?$/.exec(part);
    if (!m) return undefined;
    const from = m[1] === '*' ? min : Number(m[1]);
    const to = m[2] !== undefined ? Number(m[2]) : m[1] === '*' || m[3] !== undefined ? max : from;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    if (from < min || to > max || from > to || step < 1) return undefined;
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return [...out].sort((a, b) => a - b);
}

/** The outcome of checking a schedule against a window. */
export type ScheduleCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const hhmm = (t: number) =>
  `${String(Math.floor(t / 60) % 24).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;

/**
 * Whether a Scheduler expression only starts runs outside the daily window. `cron(...)` is
 * checked on its minutes and hours (any day); `at(...)` on its time of day; `rate(...)` fires
 * at times that depend on when the schedule was created, so it cannot be shown to stay out of
 * the window and is refused. Assumes the schedule's time zone is UTC, like the window (the
 * construct sets no `timeZone`).
 */
export function checkScheduleOutsideWindow(expression: string, window: DailyWindow): ScheduleCheck {
  const cron = /^cron\((.+)\)$/.exec(expression.trim());
  if (cron) {
    const fields = (cron[1] as string).trim().split(/\s+/);
    if (fields.length !== 6) {
      return { ok: false, reason: `expected 6 cron fields (minutes hours day month weekday year)` };
    }
    const minutes = expandField(fields[0] as string, 0, 59);
    const hours = expandField(fields[1] as string, 0, 23);
    if (!minutes || !hours) {
      return { ok: false, reason: `cannot read the minutes and hours fields of ${expression}` };
    }
    const inside = hours
      .flatMap((h) => minutes.map((m) => h * 60 + m))
      .filter((t) => insideWindow(t, window));
    if (inside.length > 0) {
      return { ok: false, reason: `it starts at ${hhmm(inside[0] as number)} UTC` };
    }
    return { ok: true };
  }
  const at = /^at\(\d{4}-\d{2}-\d{2}T(\d{2}):(\d{2}):\d{2}\)$/.exec(expression.trim());
  if (at) {
    const t = Number(at[1]) * 60 + Number(at[2]);
    return insideWindow(t, window)
      ? { ok: false, reason: `it starts at ${hhmm(t)} UTC` }
      : { ok: true };
  }
  if (/^rate\(.+\)$/.test(expression.trim())) {
    return {
      ok: false,
      reason:
        'a rate() schedule fires at times set by when it was created, which may fall inside the window',
    };
  }
  return { ok: false, reason: `not a cron(), rate() or at() expression` };
}
