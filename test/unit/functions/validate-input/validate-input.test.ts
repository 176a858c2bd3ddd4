import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '#commons/errors.ts';
import { releaseIdFrom, validateRelease } from '#functions/validate-input/validate-input.ts';

const target = {
  cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/sd',
  service: 'sd-wordpress',
  containerName: 'wordpress',
  targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/sd/abc',
  dbInstanceIdentifier: 'sd-db',
  siteUrl: 'http://sd-alb.example.com',
  sourceRepositoryUrl: 'https://git-codecommit.us-east-1.amazonaws.com/v1/repos/sd-source',
  sourceBucket: 'sd-uploads',
  snapshotPrefix: 'sd-release',
};
const context = {
  executionName: 'Manual_2026-01-01T10-00',
  startTime: '2026-01-01T10:00:00.000Z',
  target,
};
const COMMIT = 'a'.repeat(40);
const IMAGE = `123456789012.dkr.ecr.us-east-1.amazonaws.com/sd@sha256:${'c'.repeat(64)}`;

describe('validateRelease', () => {
  it('normalises a CodeCommit release with defaults and a snapshot id', () => {
    // Prepare
    const input = { source: { type: 'codecommit', commitId: COMMIT }, startedBy: 'alice' };
    // Act
    const release = validateRelease(input, context);
    // Assess
    expect(release).toMatchObject({
      releaseId: 'manual-2026-01-01t10-00',
      trigger: 'manual',
      snapshotId: 'sd-release-manual-2026-01-01t10-00',
      build: {
        sourceType: 'CODECOMMIT',
        sourceLocation: target.sourceRepositoryUrl,
        sourceVersion: COMMIT,
      },
      options: {
        healthTimeoutSeconds: 900,
        pollIntervalSeconds: 15,
        maxUnhealthyPolls: 6,
        requiredHealthyPolls: 2,
        smokeAttempts: 5,
      },
    });
    expect(release.image).toBeUndefined();
  });

  it('builds an S3 source override from the object version', () => {
    // Prepare
    const input = {
      releaseId: 'r-42',
      source: { type: 's3', key: 'uploads/site.zip', versionId: 'v1' },
      trigger: 's3',
      startedBy: 's3',
    };
    // Act
    const release = validateRelease(input, context);
    // Assess
    expect(release.build).toEqual({
      sourceType: 'S3',
      sourceLocation: 'sd-uploads/uploads/site.zip',
      sourceVersion: 'v1',
    });
  });

  it('skips the build for an image pinned by digest', () => {
    // Prepare
    const input = {
      source: { type: 'image', imageUri: IMAGE },
      startedBy: 'bob',
      options: { pollIntervalSeconds: 5 },
    };
    // Act
    const release = validateRelease(input, context);
    // Assess
    expect(release.build).toBeUndefined();
    expect(release.image).toEqual({ uri: IMAGE, digest: `sha256:${'c'.repeat(64)}` });
    expect(release.options.pollIntervalSeconds).toBe(5);
    expect(release.options.healthTimeoutSeconds).toBe(900);
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['not an object', 'hello', /\(input\): /],
    ['missing source', { startedBy: 'a' }, /source: /],
    [
      'short commit id',
      { source: { type: 'codecommit', commitId: 'abc' }, startedBy: 'a' },
      /source\.commitId: must be a full 40-character commit id/,
    ],
    [
      'image by tag',
      { source: { type: 'image', imageUri: 'repo/sd:latest' }, startedBy: 'a' },
      /source\.imageUri: must be pinned by digest/,
    ],
    [
      's3 object not a zip',
      { source: { type: 's3', key: 'a.tar', versionId: 'v' }, startedBy: 'a' },
      /source\.key: must name a \.zip object/,
    ],
    ['unknown source type', { source: { type: 'git' }, startedBy: 'a' }, /source\.type/],
    [
      'unknown field (e.g. a smuggled secret)',
      { source: { type: 'image', imageUri: IMAGE }, startedBy: 'a', dbPassword: 'x' },
      /dbPassword/,
    ],
    [
      'bad release id',
      { releaseId: 'Bad_ID', source: { type: 'image', imageUri: IMAGE }, startedBy: 'a' },
      /releaseId: lowercase letters/,
    ],
    [
      'timeout too short',
      {
        source: { type: 'image', imageUri: IMAGE },
        startedBy: 'a',
        options: { healthTimeoutSeconds: 5 },
      },
      /options\.healthTimeoutSeconds/,
    ],
    ['no startedBy', { source: { type: 'image', imageUri: IMAGE } }, /startedBy/],
  ];
  it.each(bad)('refuses %s, naming the field', (_name, input, message) => {
    // Prepare / Act
    const act = () => validateRelease(input, context);
    // Assess
    expect(act).toThrow(InvalidInputError);
    expect(act).toThrow(message);
  });
});

describe('releaseIdFrom', () => {
  it.each([
    ['Manual_2026-01-01T10-00', 'manual-2026-01-01t10-00'],
    ['123-abc', 'abc'],
    ['---', 'release'],
    ['x'.repeat(80), 'x'.repeat(60)],
  ])('%s → %s', (name, id) => {
    // Prepare / Act / Assess
    expect(releaseIdFrom(name)).toBe(id);
  });
});
