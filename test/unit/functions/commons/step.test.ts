import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { LockHeldError } from '#commons/errors.ts';
import { defineStep } from '#commons/step.ts';
import { type Json, toJson } from '#local/runner.ts';
import { localStep } from '#local/steps/local-step.ts';
import { lambdaContext } from '../handlers/context.ts';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});
const { lambdaHandler } = await import('#commons/lambda-handler.ts');

/** A step's contract as every functions/<step>/schema.ts writes one (a default included). */
const lockSchema = z.object({
  service: z.string().min(1),
  releaseId: z.string().regex(/^r-\d+$/, 'releaseId must look like r-<n>'),
  leaseSeconds: z.number().int().positive().default(900),
});
const HELD = 'held-by-another';
/** The logic: a named error for the ASL, else an output with a Date and an undefined field. */
const acquire = (event: z.output<typeof lockSchema>) => {
  if (event.service === HELD) throw new LockHeldError(`${event.service} is held by r-1`);
  return {
    holder: event.releaseId,
    leaseSeconds: event.leaseSeconds,
    takenAt: new Date('2026-12-03T08:00:00.000Z'),
    previousHolder: undefined,
  };
};

/** Each way a step is run, the logic once async and once sync: both end in a promise. */
const RUNS = [
  ['async', defineStep(lockSchema, async (event) => acquire(event))],
  ['sync', defineStep(lockSchema, acquire)],
] as const;

const VALID = { service: 'wordpress', releaseId: 'r-7' };

describe('defineStep', () => {
  it.each(RUNS)('%s logic: run parses nothing and returns a promise', async (_kind, step) => {
    // Prepare
    const event = lockSchema.parse(VALID);
    // Act
    const out = step.run(event);
    // Assess
    expect(out).toBeInstanceOf(Promise);
    await expect(out).resolves.toMatchObject({ holder: 'r-7', leaseSeconds: 900 });
    expect(step.schema).toBe(lockSchema);
  });

  it.each(RUNS)('%s logic: a thrown named error is a rejection', async (_kind, step) => {
    // Prepare
    const event = lockSchema.parse({ ...VALID, service: HELD });
    // Act
    const run = () => step.run(event);
    // Assess
    await expect(run()).rejects.toBeInstanceOf(LockHeldError);
  });
});

/** What a run of a step ends in: its output, or an error named as the ASL sees it. */
type Expected =
  | { readonly outcome: 'output'; readonly value: unknown }
  | { readonly outcome: 'error'; readonly name: string; readonly message: RegExp };

/** One row of the local table: a way to run the step, an input, and how it ends. */
interface LocalCase {
  readonly name: string;
  readonly step: (typeof RUNS)[number][1];
  readonly input: Json;
  readonly expected: Expected;
}

const LOCAL_CASES: readonly LocalCase[] = RUNS.flatMap(([kind, step]): LocalCase[] => [
  {
    name: `${kind}: a valid input yields the output as JSON (Date as ISO text, undefined dropped)`,
    step,
    input: VALID,
    expected: {
      outcome: 'output',
      value: { holder: 'r-7', leaseSeconds: 900, takenAt: '2026-12-03T08:00:00.000Z' },
    },
  },
  {
    name: `${kind}: a malformed input fails with the ZodError naming the field`,
    step,
    input: { service: 'wordpress', releaseId: 'seven' },
    expected: { outcome: 'error', name: 'ZodError', message: /releaseId must look like r-<n>/ },
  },
  {
    name: `${kind}: the step's named error passes through for the ASL`,
    step,
    input: { ...VALID, service: HELD },
    expected: { outcome: 'error', name: 'LockHeldError', message: /held by r-1/ },
  },
]);

describe('localStep: a step as the local runner handler of its Task state', () => {
  it.each(LOCAL_CASES)('$name', async ({ step, input, expected }) => {
    // Prepare
    const handler = localStep(step);
    // Act
    const result = await Promise.resolve(handler(input)).then(
      (value) => ({ outcome: 'output', value }) as const,
      (error: unknown) => ({ outcome: 'error', error: error as Error }) as const,
    );
    // Assess
    if (expected.outcome === 'output') {
      expect(result).toStrictEqual({ outcome: 'output', value: expected.value });
    } else {
      expect(result.outcome).toBe('error');
      const error = result.outcome === 'error' ? result.error : undefined;
      expect(error?.name).toBe(expected.name);
      expect(error?.message).toMatch(expected.message);
    }
  });

  it('parses before the logic runs: a malformed input reaches no local I/O', async () => {
    // Prepare
    const run = vi.fn(async () => ({ ok: true }));
    const handler = localStep(defineStep(lockSchema, run));
    // Act
    const error = await Promise.resolve(handler({ service: '' })).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(z.ZodError);
    expect(run).not.toHaveBeenCalled();
  });
});

describe('lambdaHandler: a step as its middy Lambda handler', () => {
  it.each([
    [
      'a valid input yields the output as the step returned it',
      VALID,
      {
        outcome: 'output',
        value: {
          holder: 'r-7',
          leaseSeconds: 900,
          takenAt: new Date('2026-12-03T08:00:00.000Z'),
          previousHolder: undefined,
        },
      },
    ],
    [
      'a malformed input fails with ParseError, the zod issue in its cause',
      { service: 'wordpress', releaseId: 'seven' },
      { outcome: 'error', name: 'ParseError', cause: /releaseId must look like r-<n>/ },
    ],
    [
      "the step's named error passes through for the ASL",
      { ...VALID, service: HELD },
      { outcome: 'error', name: 'LockHeldError', cause: undefined },
    ],
  ] as const)('%s', async (_case, input, expected) => {
    // Prepare
    const handler = lambdaHandler(defineStep(lockSchema, acquire));
    // Act
    const result = await handler(input as never, lambdaContext('AcquireLock')).then(
      (value) => ({ outcome: 'output', value }) as const,
      (error: unknown) => ({ outcome: 'error', error }) as const,
    );
    // Assess
    if (expected.outcome === 'output') {
      expect(result).toStrictEqual({ outcome: 'output', value: expected.value });
    } else {
      expect(result.outcome).toBe('error');
      const error = (result as { error: Error & { cause?: unknown } }).error;
      expect(error.name).toBe(expected.name);
      if (expected.cause) expect(JSON.stringify(error.cause)).toMatch(expected.cause);
    }
  });
});

describe('toJson: the one conversion of a typed value to the runner Json', () => {
  it.each([
    ['undefined (a step that returns nothing)', undefined, null],
    ['null', null, null],
    ['a plain object, as is', { a: 1, b: ['x', true] }, { a: 1, b: ['x', true] }],
    ['a Date, as its ISO text', new Date('2026-12-03T08:00:00.000Z'), '2026-12-03T08:00:00.000Z'],
    ['undefined fields, dropped', { a: 1, b: undefined }, { a: 1 }],
    ['undefined in an array, as null', [1, undefined], [1, null]],
  ])('%s', (_case, value, expected) => {
    // Act
    const json = toJson(value);
    // Assess
    expect(json).toStrictEqual(expected);
  });
});
