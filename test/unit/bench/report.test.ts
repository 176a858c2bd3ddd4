import { describe, expect, it } from 'vitest';
import {
  figure,
  notMeasured,
  type SectionResult,
  sectionNotMeasured,
} from '../../../bench/lib/figures.ts';
import {
  type BenchRun,
  formatValue,
  renderChart,
  renderMarkdown,
  verdict,
} from '../../../bench/report.ts';

const detection: SectionResult = {
  id: 'failure-detection',
  title: 'Failure detection',
  status: 'partial',
  reason: 'crash: never entered FindLastKnownGood',
  method: 'watcher at 100 ms',
  figures: [
    figure({
      name: 'unhealthy <b>',
      value: 2600,
      unit: 'ms',
      yardstick: { name: 'two intervals', value: 2000, unit: 'ms' },
      target: { on: 'ratio', max: 1, text: '≤ 2 intervals' },
    }),
    notMeasured('crash', 'ms', 'never entered FindLastKnownGood', {
      on: 'ratio',
      max: 1,
      text: '≤ 2 intervals',
    }),
  ],
};
const healthy: SectionResult = {
  id: 'time-to-healthy',
  title: 'Time to healthy',
  status: 'measured',
  method: 'one release',
  figures: [
    figure({
      name: 'gate',
      value: 5000,
      unit: 'ms',
      yardstick: { name: 'floor', value: 5000, unit: 'ms' },
      target: { on: 'ratio', max: 1.1, text: '≤ 1.10×' },
    }),
  ],
  phases: [
    {
      label: 'release',
      segments: [
        { label: 'build', value: 60_000 },
        { label: 'gate', value: 5000 },
      ],
    },
  ],
};
const run: BenchRun = {
  startedAt: '2026-11-21T23:00:00.000Z',
  finishedAt: '2026-11-21T23:30:00.000Z',
  command: 'npm run bench',
  host: { node: 'v20.20.2', platform: 'linux/x64', cpus: 8, loadavg: [1, 2, 3] },
  sections: [
    detection,
    healthy,
    sectionNotMeasured(
      'image',
      'Image build',
      'bench/image-build.ts',
      'bench/image-build.ts does not exist',
    ),
  ],
};

describe('formatValue and verdict', () => {
  it.each([
    { v: 850, unit: 'ms', want: '850 ms' },
    { v: 12_345, unit: 'ms', want: '12.3 s' },
    { v: 0.01075, unit: 'USD', want: '$0.0107' },
    { v: 0.00075, unit: 'USD', want: '$0.000750' },
    { v: 0, unit: 'requests', want: '0 requests' },
    { v: null, unit: 'ms', want: '—' },
  ])('$v $unit reads $want', ({ v, unit, want }) => {
    // Prepare: the table row. Act / Assess
    expect(formatValue(v, unit)).toBe(want);
  });

  it('names met, not met, no target and not measured', () => {
    // Prepare / Act / Assess
    expect(verdict(healthy.figures[0] as never)).toBe('✅ met');
    expect(verdict(detection.figures[0] as never)).toBe('❌ not met');
    expect(verdict(detection.figures[1] as never)).toBe('not measured');
    expect(verdict(figure({ name: 'x', value: 1, unit: 'ms' }))).toBe('— (no target)');
  });
});

describe('renderMarkdown', () => {
  it('states each figure with yardstick, ratio, target and verdict, and each reason for a gap', () => {
    // Prepare: the run above. Act
    const md = renderMarkdown(run);
    // Assess
    expect(md).toContain(
      '| Failure detection | unhealthy <b> | 2600 ms | 2000 ms (two intervals) | 1.300× | ≤ 2 intervals | ❌ not met |',
    );
    expect(md).toContain(
      '| Failure detection | crash | not measured: never entered FindLastKnownGood |',
    );
    expect(md).toContain('| Image build | — | not measured: bench/image-build.ts does not exist |');
    expect(md).toContain(
      '| Time to healthy | gate | 5000 ms | 5000 ms (floor) | 1.000× | ≤ 1.10× | ✅ met |',
    );
    expect(md).toContain('Phases of release (total 65.0 s)');
    expect(md).toContain('![chart](chart.svg)');
  });
});

describe('renderChart', () => {
  it('draws one bar per ratio, colored by verdict, escapes labels, and stacks the phases', () => {
    // Prepare: the run above. Act
    const svg = renderChart(run);
    // Assess
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('unhealthy &lt;b&gt;');
    expect(svg).not.toContain('unhealthy <b>');
    expect(svg.match(/fill="#c62828"/g)?.length).toBe(1);
    expect(svg.match(/fill="#2e7d32"/g)?.length).toBeGreaterThanOrEqual(1);
    expect(svg).toContain('<title>build: 60.0 s</title>');
    expect(svg).toContain('1.30×');
  });

  it('says so when no ratio was measured', () => {
    // Prepare
    const empty: BenchRun = { ...run, sections: [sectionNotMeasured('x', 'X', 'm', 'r')] };
    // Act
    const svg = renderChart(empty);
    // Assess
    expect(svg).toContain('no ratio was measured in this run');
  });
});
