import { round } from './stats.ts';

/**
 * A target a figure is held to. `on` says whether the limit applies to the figure itself or
 * to its ratio against the yardstick; `max` is inclusive (a figure equal to it meets it).
 */
export interface Target {
  readonly on: 'value' | 'ratio';
  readonly max: number;
  /** How the report states the target, e.g. "≤ 2 health-check intervals (2000 ms)". */
  readonly text: string;
}

/** A yardstick measured in the same run as the figure. */
export interface Yardstick {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
}

/** One reported figure with its yardstick, ratio and verdict. */
export interface Figure {
  readonly name: string;
  /** null when the figure could not be measured (see `notMeasured`). */
  readonly value: number | null;
  readonly unit: string;
  readonly yardstick?: Yardstick;
  /** value / yardstick.value, or null when either is missing or the yardstick is zero. */
  readonly ratio: number | null;
  readonly target?: Target;
  /** true / false against the target; null when there is no target or no value. */
  readonly met: boolean | null;
  /** Why the figure is missing. */
  readonly notMeasured?: string;
  readonly note?: string;
}

/** What a bench section produced. */
export interface SectionResult {
  readonly id: string;
  readonly title: string;
  /** 'not measured' when nothing could be measured (reason says why). */
  readonly status: 'measured' | 'partial' | 'not measured';
  readonly reason?: string;
  /** What exactly is measured and how (one paragraph for the report). */
  readonly method: string;
  readonly figures: readonly Figure[];
  /** Extra rows worth publishing (per-bundle sizes, per-scenario costs, ...). */
  readonly details?: unknown;
  /** Stacked bars for the chart (e.g. phases of a release), in the figure's unit. */
  readonly phases?: readonly { readonly label: string; readonly segments: readonly Segment[] }[];
  /** Tables for the report (e.g. one row per scenario), rendered after the figures. */
  readonly tables?: readonly Table[];
  readonly durationMs?: number;
  /**
   * Set on a section kept from an earlier run because this command did not run it: when and
   * by which command it was measured. Its figures are that run's, not this one's.
   */
  readonly carriedFrom?: { readonly startedAt: string; readonly command: string };
}

/** A table of text cells for the report. */
export interface Table {
  readonly title: string;
  readonly headers: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** One segment of a stacked bar. */
export interface Segment {
  readonly label: string;
  readonly value: number;
}

/** value / yardstick, or null when the ratio is undefined. Pure. */
export function ratioOf(value: number | null, yardstick: Yardstick | undefined): number | null {
  if (value === null || yardstick === undefined) return null;
  if (!Number.isFinite(value) || !Number.isFinite(yardstick.value) || yardstick.value === 0)
    return null;
  return round(value / yardstick.value, 4);
}

/** Whether a figure meets its target: null without a target or without the number it needs. Pure. */
export function evaluate(
  value: number | null,
  ratio: number | null,
  target: Target | undefined,
): boolean | null {
  if (target === undefined) return null;
  const subject = target.on === 'ratio' ? ratio : value;
  if (subject === null || !Number.isFinite(subject)) return null;
  return subject <= target.max;
}

/** Builds a figure, computing its ratio and verdict. Pure. */
export function figure(input: {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly yardstick?: Yardstick;
  readonly target?: Target;
  readonly note?: string;
}): Figure {
  const value = round(input.value, 6);
  const ratio = ratioOf(input.value, input.yardstick);
  return {
    name: input.name,
    value,
    unit: input.unit,
    ...(input.yardstick
      ? { yardstick: { ...input.yardstick, value: round(input.yardstick.value, 6) } }
      : {}),
    ratio,
    ...(input.target ? { target: input.target } : {}),
    met: evaluate(value, ratio, input.target),
    ...(input.note ? { note: input.note } : {}),
  };
}

/** A figure that could not be measured, with the reason; never a number. Pure. */
export function notMeasured(name: string, unit: string, reason: string, target?: Target): Figure {
  return {
    name,
    value: null,
    unit,
    ratio: null,
    ...(target ? { target } : {}),
    met: null,
    notMeasured: reason,
  };
}

/** A whole section that could not run, with the reason. Pure. */
export function sectionNotMeasured(
  id: string,
  title: string,
  method: string,
  reason: string,
): SectionResult {
  return { id, title, status: 'not measured', reason, method, figures: [] };
}
