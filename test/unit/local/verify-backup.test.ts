import type { TaskDefinition } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import type { ExecutionProgress } from '#execution/progress.ts';
import { summarizeVerification, verifyExecutionName } from '#local/verify-backup.ts';
import { manifestFromMetadata, siteHost, verificationTaskConfig } from '#local/verify-restore.ts';

const progress: ExecutionProgress = {
  status: 'FAILED',
  outcome: 'failed',
  currentSteps: [],
  steps: [],
  failure: { step: 'VerifyData', error: 'DataVerificationError', cause: 'data checks failed: x' },
};

describe('summarizeVerification', () => {
  const clean = { status: 'clean' };
  const metrics = { rtoSeconds: 7, rpoSeconds: 120 };
  it.each([
    {
      name: 'a clean pass',
      status: 'SUCCEEDED' as const,
      final: { snapshot: { snapshotId: 's1' }, cleanup: clean, metrics },
      leftovers: [],
      want: {
        outcome: 'PASSED',
        failedCheck: null,
        error: null,
        failedChecks: [],
        rtoSeconds: 7,
        snapshotAgeSeconds: 120,
        cleanup: { status: 'clean', leftovers: [] },
      },
    },
    {
      name: 'a data failure with its named checks',
      status: 'FAILED' as const,
      final: {
        snapshot: { snapshotId: 's1' },
        cleanup: clean,
        metrics,
        failure: {
          step: 'VerifyData',
          Error: 'DataVerificationError',
          Cause:
            'data checks failed: MissingTable:wp_users; RowCountMismatch:wp_posts expected 4 got 0',
        },
      },
      leftovers: [],
      want: {
        outcome: 'FAILED',
        failedCheck: 'VerifyData',
        error: 'DataVerificationError',
        failedChecks: ['MissingTable:wp_users', 'RowCountMismatch:wp_posts expected 4 got 0'],
      },
    },
    {
      name: 'a pass whose cleanup failed',
      status: 'FAILED' as const,
      final: {
        snapshot: { snapshotId: 's1' },
        metrics,
        cleanup: {
          status: 'FAILED',
          what: 'DeleteScratchInstance',
          Error: 'DockerError',
          Cause: 'busy',
        },
      },
      leftovers: [],
      want: { outcome: 'FAILED', failedCheck: 'DeleteScratchInstance', reason: 'busy' },
    },
    {
      name: 'a succeeded execution that left a container for the safety net',
      status: 'SUCCEEDED' as const,
      final: { snapshot: { snapshotId: 's1' }, cleanup: clean, metrics },
      leftovers: ['stepdeploy-x-scratch-1'],
      want: {
        outcome: 'FAILED',
        failedCheck: 'Cleanup',
        error: 'ScratchLeftBehind',
        cleanup: { status: 'LEFT_BEHIND', leftovers: ['stepdeploy-x-scratch-1'] },
      },
    },
    {
      name: 'a run that broke before the Outcome state',
      status: 'FAILED' as const,
      final: undefined,
      leftovers: [],
      want: {
        outcome: 'FAILED',
        failedCheck: 'VerifyData',
        snapshotId: null,
        rtoSeconds: null,
        failedChecks: ['x'],
      },
    },
  ])('$name', ({ status, final, leftovers, want }) => {
    // Act
    const summary = summarizeVerification({
      executionName: 'verify-1',
      status,
      final,
      progress,
      leftovers,
    });
    // Assess
    expect(summary).toMatchObject(want);
  });
});

describe('verificationTaskConfig', () => {
  const td: TaskDefinition = {
    taskDefinitionArn: 'arn:local:ecs:task-definition/stepdeploy-wp:3',
    containerDefinitions: [
      {
        name: 'wordpress',
        image: '127.0.0.1:5000/stepdeploy/wp@sha256:abc',
        environment: [
          { name: 'WORDPRESS_DB_HOST', value: '127.0.0.1:13306' },
          { name: 'WORDPRESS_SITE_URL', value: 'http://127.0.0.1:8080' },
        ],
        secrets: [
          { name: 'WORDPRESS_DB_PASSWORD', valueFrom: '/state/secrets/wp-db-password' },
          { name: 'WORDPRESS_AUTH_KEY', valueFrom: '/state/secrets/wp-auth-key' },
        ],
      },
    ],
  };
  const scratch = {
    host: '127.0.0.1' as const,
    port: 40001,
    database: 'wordpress',
    user: 'wordpress',
    passwordFile: '/state/secrets/wp-scratch-password',
  };

  it('applies the run overrides and points the password at the scratch copy', () => {
    // Act
    const config = verificationTaskConfig(
      td,
      [
        {
          Name: 'wordpress',
          Environment: [{ Name: 'WORDPRESS_DB_HOST', Value: '127.0.0.1:40001' }],
        },
        { Name: 'sidecar', Environment: [{ Name: 'WORDPRESS_DB_HOST', Value: 'elsewhere' }] },
      ],
      scratch,
    );
    // Assess
    expect(config.image).toBe('127.0.0.1:5000/stepdeploy/wp@sha256:abc');
    expect(config.env).toEqual({
      WORDPRESS_DB_HOST: '127.0.0.1:40001',
      WORDPRESS_SITE_URL: 'http://127.0.0.1:8080',
      WORDPRESS_DB_NAME: 'wordpress',
      WORDPRESS_DB_USER: 'wordpress',
    });
    expect(config.secretFiles).toEqual({
      WORDPRESS_DB_PASSWORD: '/state/secrets/wp-scratch-password',
      WORDPRESS_AUTH_KEY: '/state/secrets/wp-auth-key',
    });
  });

  it('refuses a task definition without an image', () => {
    // Act / Assess
    expect(() =>
      verificationTaskConfig({ ...td, containerDefinitions: [{ name: 'wordpress' }] }, [], scratch),
    ).toThrow(/has no wordpress image/);
  });
});

describe('small helpers', () => {
  it('probes with the site host, falling back when the URL is absent or bad', () => {
    // Act / Assess
    expect(siteHost({ WORDPRESS_SITE_URL: 'http://127.0.0.1:8080' }, 'x')).toBe('127.0.0.1:8080');
    expect(siteHost({}, '127.0.0.1:9')).toBe('127.0.0.1:9');
    expect(siteHost({ WORDPRESS_SITE_URL: 'not a url' }, '127.0.0.1:9')).toBe('127.0.0.1:9');
  });

  it('names executions uniquely and validly for a scratch instance id', () => {
    // Act
    const name = verifyExecutionName(new Date('2026-01-02T03:04:05.678Z'), 'abc123');
    // Assess
    expect(name).toBe('verify-20260102t030405678z-abc123');
    expect(name.length).toBeLessThanOrEqual(80);
  });

  it('turns snapshot metadata into a VerifyData manifest', () => {
    // Act
    const manifest = manifestFromMetadata({
      id: 's1',
      createdAt: '2026-01-01T00:00:00.000Z',
      sizeBytes: 1,
      source: { name: 'db', container: 'c', database: 'wordpress' },
      engine: '11.8',
      dumpFile: '/d',
      tables: [{ table: 'wp_posts', rows: 4, checksum: '99' }],
    });
    // Assess
    expect(manifest).toEqual({
      snapshotId: 's1',
      createdAt: '2026-01-01T00:00:00.000Z',
      tables: { wp_posts: { rows: 4, checksum: '99' } },
    });
  });
});
