/**
 * The report writer: bench/results/REPORT.md (every figure with its yardstick, ratio, target
 * and verdict) and bench/results/chart.svg (hand-written SVG: ratio bars, phase bars).
 * Rendering is pure; `writeReport` does the I/O.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Figure, SectionResult } from './lib/figures.ts';
import { RESULTS_DIR } from './lib/section.ts';

/** One `npm run bench` run as written to latest.json. */
export interface BenchRun {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly command: string;
  readonly host: {
    readonly node: string;
    readonly platform: string;
    readonly cpus: number;
    readonly loadavg: readonly number[];
  };
  readonly sections: readonly SectionResult[];
}

/** A number in a unit, readable. Pure. */
export function formatValue(value: number | null, unit: string): string {
  if (value === null) return '—';
  if (unit === 'ms')
    return Math.abs(value) >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
  if (unit === 's') return `${value.toFixed(1)} s`;
  if (unit === 'USD') return `$${value < 0.01 ? value.toPrecision(3) : value.toFixed(4)}`;
  if (unit === 'bytes')
    return value >= 1024 * 1024
      ? `${(value / 1024 / 1024).toFixed(1)} MiB`
      : `${(value / 1024).toFixed(0)} KiB`;
  if (Number.isInteger(value)) return `${value} ${unit}`;
  return `${value.toPrecision(4)} ${unit}`;
}

/** ✅ met, ❌ not met, — no target, n/m not measured. Pure. */
export function verdict(f: Figure): string {
  if (f.value === null) return 'not measured';
  if (f.met === true) return '✅ met';
  if (f.met === false) return '❌ not met';
  return '— (no target)';
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function figureRow(section: string | undefined, f: Figure): string {
  const cells = [
    ...(section !== undefined ? [section] : []),
    f.name,
    f.value === null ? `not measured: ${f.notMeasured ?? ''}` : formatValue(f.value, f.unit),
    f.yardstick ? `${formatValue(f.yardstick.value, f.yardstick.unit)} (${f.yardstick.name})` : '—',
    f.ratio === null ? '—' : `${f.ratio.toFixed(f.ratio < 10 ? 3 : 1)}×`,
    f.target?.text ?? '—',
    verdict(f),
  ];
  return `| ${cells.map(cell).join(' | ')} |`;
}

/** The markdown report. Pure. */
export function renderMarkdown(run: BenchRun): string {
  const lines: string[] = [];
  lines.push('# stepdeploy benchmarks', '');
  lines.push(
    `Run ${run.startedAt} → ${run.finishedAt} with \`${run.command}\` on ${run.host.platform}, Node ${run.host.node}, ` +
      `${run.host.cpus} CPUs (load average at start ${run.host.loadavg.map((l) => l.toFixed(2)).join(' / ')}).`,
    '',
    'Machines are noisy, so every figure stands beside a yardstick measured in the same run, and the ratio is what to compare between runs.',
    ...(run.sections.some((s) => s.carriedFrom)
      ? [
          '',
          `Sections this command did not run are kept from the earlier run that measured them, and say so: ${[
            ...new Set(
              run.sections
                .filter((s) => s.carriedFrom)
                .map(
                  (s) => `${s.title} (${s.carriedFrom?.startedAt}, \`${s.carriedFrom?.command}\`)`,
                ),
            ),
          ].join('; ')}.`,
        ]
      : []),
    '',
    '![chart](chart.svg)',
    '',
    '## Summary',
    '',
    '| section | figure | value | yardstick | ratio | target | met |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  );
  const titled = (s: SectionResult) =>
    s.carriedFrom ? `${s.title} (from ${s.carriedFrom.startedAt.slice(0, 10)})` : s.title;
  for (const s of run.sections) {
    if (s.figures.length === 0)
      lines.push(
        `| ${cell(titled(s))} | — | not measured: ${cell(s.reason ?? '')} | — | — | — | not measured |`,
      );
    for (const f of s.figures) lines.push(figureRow(titled(s), f));
  }
  for (const s of run.sections) {
    lines.push('', `## ${s.title}`, '');
    if (s.carriedFrom)
      lines.push(
        `Carried over from the run of ${s.carriedFrom.startedAt} (\`${s.carriedFrom.command}\`): not re-measured by this command.`,
        '',
      );
    lines.push(
      `Status: **${s.status}**${s.durationMs !== undefined ? ` (section took ${(s.durationMs / 1000).toFixed(1)} s)` : ''}.`,
      '',
    );
    if (s.reason) lines.push(`${s.status === 'measured' ? 'Note' : 'Why'}: ${s.reason}`, '');
    lines.push(s.method, '');
    if (s.figures.length > 0) {
      lines.push(
        '| figure | value | yardstick | ratio | target | met |',
        '| --- | --- | --- | --- | --- | --- |',
      );
      for (const f of s.figures) lines.push(figureRow(undefined, f));
      const notes = s.figures.filter((f) => f.note);
      if (notes.length > 0) {
        lines.push('');
        for (const f of notes) lines.push(`- ${f.name}: ${f.note}`);
      }
    }
    for (const t of s.tables ?? []) {
      lines.push('', `${t.title}:`, '');
      lines.push(`| ${t.headers.map(cell).join(' | ')} |`);
      lines.push(`| ${t.headers.map(() => '---').join(' | ')} |`);
      for (const row of t.rows) lines.push(`| ${row.map(cell).join(' | ')} |`);
    }
    for (const p of s.phases ?? []) {
      const total = p.segments.reduce((a, b) => a + b.value, 0);
      lines.push('', `Phases of ${p.label} (total ${formatValue(total, 'ms')}):`, '');
      lines.push(`| ${p.segments.map((g) => cell(g.label)).join(' | ')} |`);
      lines.push(`| ${p.segments.map(() => '---').join(' | ')} |`);
      lines.push(`| ${p.segments.map((g) => formatValue(g.value, 'ms')).join(' | ')} |`);
    }
  }
  lines.push('', 'Raw figures: [latest.json](latest.json).', '');
  return lines.join('\n');
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const COLORS = { met: '#2e7d32', notMet: '#c62828', none: '#607d8b' };
const PHASE_COLORS = [
  '#1565c0',
  '#6a1b9a',
  '#00838f',
  '#ef6c00',
  '#2e7d32',
  '#ad1457',
  '#4e342e',
  '#9e9d24',
];

/**
 * The chart: one horizontal bar per figure that has a ratio (value ÷ yardstick; the dashed
 * line at 1 is the yardstick, a red tick the ratio target), then stacked phase bars. Pure.
 */
export function renderChart(run: BenchRun): string {
  const bars = run.sections.flatMap((s) =>
    s.figures.filter((f) => f.ratio !== null).map((f) => ({ label: `${s.title}: ${f.name}`, f })),
  );
  const phases = run.sections.flatMap((s) =>
    (s.phases ?? []).map((p) => ({ ...p, section: s.title })),
  );
  const width = 1000;
  const labelW = 520;
  const plotW = width - labelW - 90;
  const rowH = 22;
  const top = 50;
  const maxRatio = Math.max(
    1.2,
    ...bars.map((b) => Math.min(b.f.ratio as number, 12)),
    ...bars.map((b) => (b.f.target?.on === 'ratio' ? b.f.target.max : 0)),
  );
  const x = (r: number) => labelW + (Math.min(r, maxRatio) / maxRatio) * plotW;
  const out: string[] = [];
  let y = top;
  out.push(
    `<text x="10" y="24" font-size="16" font-weight="bold">stepdeploy bench ${esc(run.startedAt)}: figure ÷ yardstick (same run)</text>`,
  );
  out.push(
    `<text x="10" y="42" font-size="11" fill="#555">green: target met · red: not met · grey: no target · dashed line: yardstick (1×) · red tick: ratio target · bars capped at ${maxRatio.toFixed(1)}×</text>`,
  );
  for (const b of bars) {
    const r = b.f.ratio as number;
    const color = b.f.met === true ? COLORS.met : b.f.met === false ? COLORS.notMet : COLORS.none;
    const label = b.label.length > 80 ? `${b.label.slice(0, 77)}…` : b.label;
    out.push(
      `<text x="${labelW - 6}" y="${y + 15}" font-size="11" text-anchor="end">${esc(label)}</text>`,
    );
    out.push(
      `<rect x="${labelW}" y="${y + 4}" width="${Math.max(1, x(r) - labelW).toFixed(1)}" height="${rowH - 8}" fill="${color}"/>`,
    );
    if (b.f.target?.on === 'ratio')
      out.push(
        `<line x1="${x(b.f.target.max).toFixed(1)}" x2="${x(b.f.target.max).toFixed(1)}" y1="${y + 1}" y2="${y + rowH - 1}" stroke="#c62828" stroke-width="2"/>`,
      );
    out.push(
      `<text x="${(x(r) + 4).toFixed(1)}" y="${y + 15}" font-size="11">${r.toFixed(r < 10 ? 2 : 1)}×${r > maxRatio ? ' ›' : ''}</text>`,
    );
    y += rowH;
  }
  if (bars.length > 0)
    out.push(
      `<line x1="${x(1).toFixed(1)}" x2="${x(1).toFixed(1)}" y1="${top}" y2="${y}" stroke="#333" stroke-dasharray="4 3"/>`,
    );
  else {
    out.push(`<text x="10" y="${y + 15}" font-size="12">no ratio was measured in this run</text>`);
    y += rowH;
  }
  if (phases.length > 0) {
    y += 20;
    out.push(`<text x="10" y="${y}" font-size="14" font-weight="bold">phases (seconds)</text>`);
    y += 10;
    const maxTotal = Math.max(...phases.map((p) => p.segments.reduce((a, g) => a + g.value, 0)), 1);
    for (const p of phases) {
      const label = `${p.section}: ${p.label}`;
      out.push(
        `<text x="${labelW - 6}" y="${y + 15}" font-size="11" text-anchor="end">${esc(label.length > 80 ? `${label.slice(0, 77)}…` : label)}</text>`,
      );
      let px = labelW;
      p.segments.forEach((g, i) => {
        const w = (g.value / maxTotal) * plotW;
        out.push(
          `<rect x="${px.toFixed(1)}" y="${y + 4}" width="${Math.max(0, w).toFixed(1)}" height="${rowH - 8}" fill="${PHASE_COLORS[i % PHASE_COLORS.length]}"><title>${esc(`${g.label}: ${(g.value / 1000).toFixed(1)} s`)}</title></rect>`,
        );
        px += w;
      });
      out.push(
        `<text x="${(px + 4).toFixed(1)}" y="${y + 15}" font-size="11">${(p.segments.reduce((a, g) => a + g.value, 0) / 1000).toFixed(1)} s</text>`,
      );
      y += rowH;
      // legend under each stacked bar
      let lx = labelW;
      p.segments.forEach((g, i) => {
        out.push(
          `<rect x="${lx}" y="${y + 2}" width="10" height="10" fill="${PHASE_COLORS[i % PHASE_COLORS.length]}"/>`,
        );
        out.push(`<text x="${lx + 13}" y="${y + 11}" font-size="10">${esc(g.label)}</text>`);
        lx += 13 + g.label.length * 6 + 12;
      });
      y += 18;
    }
  }
  const height = y + 20;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="#fff"/>\n${out.join('\n')}\n</svg>\n`;
}

/** Writes latest.json, REPORT.md and chart.svg under bench/results; returns their paths. */
export async function writeReport(run: BenchRun, dir = RESULTS_DIR): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files = [join(dir, 'latest.json'), join(dir, 'REPORT.md'), join(dir, 'chart.svg')];
  await writeFile(files[0] as string, `${JSON.stringify(run, null, 2)}\n`);
  await writeFile(files[1] as string, renderMarkdown(run));
  await writeFile(files[2] as string, renderChart(run));
  return files;
}
