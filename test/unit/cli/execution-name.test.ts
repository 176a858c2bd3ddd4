import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../cli/errors.ts';
import { releaseExecutionName, validateReleaseInput } from '../../../cli/release-input.ts';

const COMMIT = '3f9a1c2e4b5d6f708192a3b4c5d6e7f8091a2b3c';
const NOW = new Date('2025-03-01T10:10:00.000Z');
const IMAGE = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/wp@sha256:${'a'.repeat(64)}`;
const input = (source: Record<string, string>) =>
  validateReleaseInput({ source, startedBy: 'alice', trigger: 'manual' });

describe('releaseExecutionName', () => {
  it.each([
    ['a commit', { type: 'codecommit', commitId: COMMIT }, false, 'b', `commit-${COMMIT}`],
    [
      'a commit, again',
      { type: 'codecommit', commitId: COMMIT },
      true,
      'b',
      'again-20250301T101000Z-commit-3f9a1c2e4b5d',
    ],
    [
      'an object version',
      { type: 's3', key: 'releases/site.zip', versionId: 'v1' },
      false,
      'b',
      /^s3-site-[0-9a-f]{20}$/,
    ],
    [
      'an object version, again',
      { type: 's3', key: 'releases/site.zip', versionId: 'v1' },
      true,
      'b',
      'again-20250301T101000Z-s3-site',
    ],
    [
      'an object version of an unknown bucket',
      { type: 's3', key: 'releases/site.zip', versionId: 'v1' },
      false,
      undefined,
      'manual-20250301T101000Z-s3-site',
    ],
    [
      'an image',
      { type: 'image', imageUri: IMAGE },
      false,
      'b',
      'manual-20250301T101000Z-image-aaaaaaaaaaaa',
    ],
  ] as const)('names %s', (_case, source, again, bucket, expected) => {
    // Act
    const name = releaseExecutionName(input(source), { again, bucket, now: NOW });
    // Assess
    if (typeof expected === 'string') expect(name).toBe(expected);
    else expect(name).toMatch(expected);
  });

  it('refuses --again for an image, which always starts anew', () => {
    // Prepare
    const release = input({ type: 'image', imageUri: IMAGE });
    // Act
    const act = () => releaseExecutionName(release, { again: true, bucket: undefined, now: NOW });
    // Assess
    expect(act).toThrow(UsageError);
    expect(act).toThrow(/--again is for --commit and --s3/);
  });
});
