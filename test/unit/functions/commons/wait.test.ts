import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PollTimeoutError, pollUntil, sleep } from '#commons/wait.ts';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Runs a wait to its end on the fake clock: what it settled to, when, and what the probe saw. */
async function settle<T>(wait: () => Promise<T>) {
  const outcome = wait().then(
    (value) => ({ value, at: Date.now() }),
    (error: unknown) => ({ error, at: Date.now() }),
  );
  await vi.runAllTimersAsync();
  return outcome;
}

describe('pollUntil', () => {
  const cases: readonly {
    readonly name: string;
    readonly answers: readonly unknown[];
    readonly intervalMs: number | (() => number);
    readonly timeoutMs: number;
    readonly onTimeout?: () => unknown;
    readonly value?: unknown;
    readonly error?: string;
    readonly probeTimes: readonly number[];
  }[] = [
    {
      name: 'returns the first answer without waiting',
      answers: ['ready'],
      intervalMs: 100,
      timeoutMs: 1000,
      value: 'ready',
      probeTimes: [0],
    },
    {
      name: 'probes every interval until an answer holds',
      answers: [undefined, false, null, 'ready'],
      intervalMs: 100,
      timeoutMs: 1000,
      value: 'ready',
      probeTimes: [0, 100, 200, 300],
    },
    {
      name: 'takes 0 as an answer (only undefined, null and false wait)',
      answers: [undefined, 0],
      intervalMs: 50,
      timeoutMs: 1000,
      value: 0,
      probeTimes: [0, 50],
    },
    {
      name: 'probes once more at the deadline, then throws PollTimeoutError with the description',
      answers: [undefined],
      intervalMs: 100,
      timeoutMs: 250,
      error: 'PollTimeoutError: timed out after 250 ms waiting for the thing',
      probeTimes: [0, 100, 200, 250],
    },
    {
      name: 'lets onTimeout settle for a value at the deadline',
      answers: [false],
      intervalMs: 100,
      timeoutMs: 200,
      onTimeout: () => 'settled',
      value: 'settled',
      probeTimes: [0, 100, 200],
    },
    {
      name: "lets onTimeout throw the caller's own error",
      answers: [false],
      intervalMs: 300,
      timeoutMs: 200,
      onTimeout: () => {
        throw new RangeError('registry did not answer');
      },
      error: 'RangeError: registry did not answer',
      probeTimes: [0, 200],
    },
    {
      name: 'asks an interval function before each sleep (jitter)',
      answers: [undefined, undefined, undefined, 'ready'],
      intervalMs: (
        (next) => () =>
          next.shift() ?? 0
      )([10, 20, 30]),
      timeoutMs: 1000,
      value: 'ready',
      probeTimes: [0, 10, 30, 60],
    },
  ];

  it.each(cases)('$name', async (c) => {
    // Prepare
    const probeTimes: number[] = [];
    const answers = [...c.answers];
    const probe = async () => {
      probeTimes.push(Date.now());
      return answers.length > 1 ? answers.shift() : answers[0];
    };

    // Act
    const outcome = await settle(() =>
      pollUntil(probe, {
        intervalMs: c.intervalMs,
        timeoutMs: c.timeoutMs,
        description: 'the thing',
        ...(c.onTimeout ? { onTimeout: c.onTimeout } : {}),
      }),
    );

    // Assess
    expect(probeTimes).toEqual(c.probeTimes);
    if (c.error !== undefined) {
      expect('error' in outcome && String(outcome.error)).toBe(c.error);
    } else {
      expect(outcome).toEqual({ value: c.value, at: c.probeTimes.at(-1) });
    }
  });

  it('ends the wait with the error a probe throws, probing no further', async () => {
    // Prepare
    let calls = 0;
    const probe = async () => {
      calls += 1;
      if (calls === 2) throw new Error('container exited');
      return undefined;
    };

    // Act
    const outcome = await settle(() =>
      pollUntil(probe, { intervalMs: 100, timeoutMs: 1000, description: 'the container' }),
    );

    // Assess
    expect(outcome).toMatchObject({ at: 100 });
    expect(String((outcome as { error: unknown }).error)).toBe('Error: container exited');
    expect(calls).toBe(2);
  });

  it('stops at once when the signal aborts mid-sleep, with the reason', async () => {
    // Prepare
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('interrupted')), 150);
    const probe = vi.fn(async () => undefined);

    // Act
    const outcome = await settle(() =>
      pollUntil(probe, {
        intervalMs: 100,
        timeoutMs: 10_000,
        description: 'x',
        signal: controller.signal,
      }),
    );

    // Assess
    expect(outcome).toMatchObject({ at: 150 });
    expect(String((outcome as { error: unknown }).error)).toBe('Error: interrupted');
    expect(probe).toHaveBeenCalledTimes(2);
  });

  it('carries what it waited for on the error', async () => {
    // Act
    const outcome = await settle(() =>
      pollUntil(() => false, { intervalMs: 10, timeoutMs: 30, description: 'HAProxy' }),
    );

    // Assess
    const error = (outcome as { error: unknown }).error;
    expect(error).toBeInstanceOf(PollTimeoutError);
    expect(error).toMatchObject({
      name: 'PollTimeoutError',
      description: 'HAProxy',
      timeoutMs: 30,
    });
  });
});

describe('sleep', () => {
  it('resolves after the given milliseconds', async () => {
    // Act
    const outcome = await settle(() => sleep(1234));

    // Assess
    expect(outcome).toEqual({ value: undefined, at: 1234 });
  });

  it('rejects at once with the reason of a signal that has already aborted', async () => {
    // Prepare
    const signal = AbortSignal.abort(new Error('gone'));

    // Act
    const outcome = await settle(() => sleep(1000, signal));

    // Assess
    expect(outcome).toMatchObject({ at: 0 });
    expect(String((outcome as { error: unknown }).error)).toBe('Error: gone');
  });
});
