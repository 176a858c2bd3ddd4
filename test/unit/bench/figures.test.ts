import { describe, expect, it } from 'vitest';
import { evaluate, figure, notMeasured, ratioOf, type Target } from '../../../bench/lib/figures.ts';

const yard = (value: number) => ({ name: 'y', value, unit: 'ms' });

describe('ratioOf', () => {
  it.each([
    { value: 300, y: yard(100), want: 3 },
    { value: 0, y: yard(250), want: 0 },
    { value: 1, y: yard(3), want: 0.3333 },
    { value: 5, y: yard(0), want: null },
    { value: null, y: yard(10), want: null },
    { value: 5, y: undefined, want: null },
  ])('$value over $y.value is $want', ({ value, y, want }) => {
    // Prepare: the table row. Act / Assess
    expect(ratioOf(value, y)).toBe(want);
  });
});

describe('evaluate', () => {
  const ratioTarget: Target = { on: 'ratio', max: 1.1, text: '≤ 1.10×' };
  const zero: Target = { on: 'value', max: 0, text: 'zero' };
  it.each([
    { value: 105, ratio: 1.05, target: ratioTarget, want: true },
    { value: 110, ratio: 1.1, target: ratioTarget, want: true },
    { value: 111, ratio: 1.11, target: ratioTarget, want: false },
    { value: 0, ratio: 0, target: zero, want: true },
    { value: 1, ratio: 0.001, target: zero, want: false },
    { value: 5, ratio: null, target: ratioTarget, want: null },
    { value: null, ratio: null, target: zero, want: null },
    { value: 5, ratio: 1, target: undefined, want: null },
  ])('value $value ratio $ratio against $target.text → $want', ({ value, ratio, target, want }) => {
    // Prepare: the table row. Act / Assess
    expect(evaluate(value, ratio, target)).toBe(want);
  });
});

describe('figure', () => {
  it('computes the ratio and the verdict together', () => {
    // Prepare
    const target: Target = { on: 'ratio', max: 1, text: '≤ 2 intervals' };
    // Act
    const late = figure({ name: 'detect', value: 2600, unit: 'ms', yardstick: yard(2000), target });
    const early = figure({
      name: 'detect',
      value: 1500,
      unit: 'ms',
      yardstick: yard(2000),
      target,
    });
    // Assess
    expect(late).toMatchObject({ ratio: 1.3, met: false });
    expect(early).toMatchObject({ ratio: 0.75, met: true });
  });

  it('a figure not measured carries its reason and never a number', () => {
    // Prepare / Act
    const f = notMeasured('detect', 'ms', 'local mode not ready', {
      on: 'value',
      max: 0,
      text: 'zero',
    });
    // Assess
    expect(f).toMatchObject({
      value: null,
      ratio: null,
      met: null,
      notMeasured: 'local mode not ready',
    });
  });
});
