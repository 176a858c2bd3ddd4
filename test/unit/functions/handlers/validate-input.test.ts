import { describe, expect, it, vi } from 'vitest';
import { lambdaContext } from './context.ts';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});
const { handler } = await import('#functions/validate-input/handler.ts');

const target = {
  cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/sd',
  service: 'sd-wordpress',
  containerName: 'wordpress',
  targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/sd/abc',
  dbInstanceIdentifier: 'sd-db',
  siteUrl: 'http://sd.example.com',
  sourceRepositoryUrl: 'https://git-codecommit.us-east-1.amazonaws.com/v1/repos/sd',
  sourceBucket: 'sd-uploads',
  snapshotPrefix: 'sd-release',
};

describe('ValidateInput handler', () => {
  it('returns the normalised release', async () => {
    // Prepare
    const event = {
      input: { source: { type: 'codecommit', commitId: 'b'.repeat(40) }, startedBy: 'alice' },
      executionName: 'e1',
      startTime: '2026-01-01T00:00:00Z',
      target,
    };
    // Act
    const release = await handler(event, lambdaContext('ValidateInput'));
    // Assess
    expect(release).toMatchObject({
      releaseId: 'e1',
      snapshotId: 'sd-release-e1',
      build: { sourceType: 'CODECOMMIT' },
    });
  });

  it('raises InvalidInputError naming the field', async () => {
    // Prepare
    const event = {
      input: { source: { type: 'image', imageUri: 'sd:latest' }, startedBy: 'a' },
      executionName: 'e1',
      startTime: 't',
      target,
    };
    // Act
    const act = handler(event, lambdaContext('ValidateInput'));
    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'InvalidInputError',
      message: expect.stringContaining('source.imageUri'),
    });
  });
});
