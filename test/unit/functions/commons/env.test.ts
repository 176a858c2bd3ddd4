import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  MissingEnvironmentError,
  numberVariable,
  readEnvironment,
  stringVariable,
} from '#commons/env.ts';
import { environmentSchema as verifyDataEnvironment } from '#functions/verify-data/env.ts';

const lock = z.object({ LOCK_TABLE_NAME: stringVariable(), LOCK_LEASE_SECONDS: numberVariable() });

describe('readEnvironment', () => {
  it('reads the declared variables, numbers as numbers, and nothing else', () => {
    // Prepare
    const source = { LOCK_TABLE_NAME: 'sd-lock', LOCK_LEASE_SECONDS: '7200', PATH: '/usr/bin' };

    // Act
    const env = readEnvironment(lock, source);

    // Assess
    expect(env).toEqual({ LOCK_TABLE_NAME: 'sd-lock', LOCK_LEASE_SECONDS: 7200 });
  });

  it.each([
    ['a missing string', { LOCK_LEASE_SECONDS: '60' }, 'LOCK_TABLE_NAME is not set'],
    [
      'an empty string',
      { LOCK_TABLE_NAME: '', LOCK_LEASE_SECONDS: '60' },
      'LOCK_TABLE_NAME is not set',
    ],
    ['a missing number', { LOCK_TABLE_NAME: 't' }, 'LOCK_LEASE_SECONDS is not set'],
    [
      'a number that is not one',
      { LOCK_TABLE_NAME: 't', LOCK_LEASE_SECONDS: 'two hours' },
      'LOCK_LEASE_SECONDS is not a number: two hours',
    ],
    [
      'an infinite number',
      { LOCK_TABLE_NAME: 't', LOCK_LEASE_SECONDS: 'Infinity' },
      'LOCK_LEASE_SECONDS is not a number: Infinity',
    ],
  ])('refuses %s, naming the variable', (_name, source, detail) => {
    // Act
    const read = () => readEnvironment(lock, source);

    // Assess
    expect(read).toThrow(MissingEnvironmentError);
    expect(read).toThrow(`environment variable ${detail}`);
  });

  it("names the error MissingEnvironmentError, the name a Lambda's failed cold start reports", () => {
    // Act
    let caught: unknown;
    try {
      readEnvironment(verifyDataEnvironment, {});
    } catch (error) {
      caught = error;
    }

    // Assess: the first key the schema declares is the one named.
    expect(caught).toBeInstanceOf(Error);
    expect((caught as Error).name).toBe('MissingEnvironmentError');
    expect((caught as Error).message).toBe('environment variable DATABASE_SECRET_ARN is not set');
  });
});
