import { describe, expect, it, vi } from 'vitest';
import { lambdaContext } from './context.ts';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});
const { handler } = await import('#functions/read-build-output/handler.ts');

const DIGEST = `sha256:${'4f'.repeat(32)}`;
const URI = '123456789012.dkr.ecr.us-east-1.amazonaws.com/stepdeploy/wordpress:3f9a1c2e4b5d';
/** The Build `codebuild:startBuild.sync` returns, trimmed to a few of its many fields. */
const build = (exported: { Name: string; Value?: string }[]) => ({
  Id: 'stepdeploy-image:0b7c3f1e-2d4a-4b5c-9e6f-7a8b9c0d1e2f',
  Arn: 'arn:aws:codebuild:us-east-1:123456789012:build/stepdeploy-image:0b7c3f1e-2d4a-4b5c-9e6f-7a8b9c0d1e2f',
  BuildStatus: 'SUCCEEDED',
  CurrentPhase: 'COMPLETED',
  BuildComplete: true,
  SourceVersion: '3f9a1c2e4b5d6f708192a3b4c5d6e7f8091a2b3c',
  StartTime: 1769926620000,
  EndTime: 1769926980000,
  ExportedEnvironmentVariables: exported,
});

describe('ReadBuildOutput handler', () => {
  it('returns the image the build exported', async () => {
    // Prepare
    const event = {
      build: build([
        { Name: 'IMAGE_URI', Value: URI },
        { Name: 'IMAGE_DIGEST', Value: DIGEST },
      ]),
    };
    // Act
    const out = await handler(event, lambdaContext('ReadBuildOutput'));
    // Assess
    expect(out).toEqual({ image: { uri: URI, digest: DIGEST, buildId: event.build.Id } });
  });

  it('names a build that exported no digest BuildOutputError', async () => {
    // Prepare
    const event = { build: build([{ Name: 'IMAGE_URI', Value: URI }, { Name: 'IMAGE_DIGEST' }]) };
    // Act
    const error = await handler(event, lambdaContext('ReadBuildOutput')).catch((e: unknown) => e);
    // Assess
    expect(error).toMatchObject({
      name: 'BuildOutputError',
      message: expect.stringContaining(
        'succeeded but exported no IMAGE_DIGEST (exported: IMAGE_URI)',
      ),
    });
  });

  it('refuses a build without an id (ParseError)', async () => {
    // Prepare
    const { Id: _id, ...withoutId } = build([]);
    // Act
    const error = (await handler(
      { build: withoutId } as never,
      lambdaContext('ReadBuildOutput'),
    ).catch((e: unknown) => e)) as Error & { cause?: unknown };
    // Assess
    expect(error.name).toBe('ParseError');
    expect(JSON.stringify(error.cause)).toMatch(/Id/);
  });
});
