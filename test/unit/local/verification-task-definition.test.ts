import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerVerificationTaskDefinitionOutputSchema } from '#functions/register-verification-task-definition/schema.ts';
import { TaskDefinitionStore } from '#local/task-definitions.ts';
import { verifyRestoreAdapters } from '#local/verify-restore.ts';

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'sd-verify-td-'));
});
afterEach(() => rm(stateDir, { recursive: true, force: true }));

describe('RegisterVerificationTaskDefinition (local adapter)', () => {
  it('registers a -verify revision without the uploads volume, with the scratch site URL', async () => {
    // Prepare: the service's revision, with its uploads on EFS and the live URL
    const store = new TaskDefinitionStore(stateDir);
    const live = await store.register({
      family: 'stepdeploy-wordpress',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '512',
      memory: '1024',
      volumes: [
        { name: 'tmp' },
        {
          name: 'uploads',
          efsVolumeConfiguration: {
            fileSystemId: 'fs-0123456789abcdef0',
            transitEncryption: 'ENABLED',
          },
        },
      ],
      containerDefinitions: [
        {
          name: 'wordpress',
          image: '127.0.0.1:5000/wordpress@sha256:'.padEnd(96, 'b'),
          environment: [{ name: 'WORDPRESS_SITE_URL', value: 'http://127.0.0.1:8080' }],
          mountPoints: [
            { sourceVolume: 'tmp', containerPath: '/tmp' },
            { sourceVolume: 'uploads', containerPath: '/var/lib/wordpress/wp-content/uploads' },
          ],
        },
      ],
    });
    const { handlers } = verifyRestoreAdapters({
      stateDir,
      service: 'wordpress',
      scratchPort: 13399,
      appPort: 18099,
    });
    // Act
    const out = registerVerificationTaskDefinitionOutputSchema.parse(
      await handlers.RegisterVerificationTaskDefinition?.({
        taskDefinitionArn: live.taskDefinitionArn as string,
        containerName: 'wordpress',
        siteUrl: 'http://stepdeploy-verify.invalid',
      }),
    );
    // Assess
    expect(out.taskDefinitionArn).toMatch(/stepdeploy-wordpress-verify:1$/);
    const twin = await store.describe(out.taskDefinitionArn);
    expect(twin.volumes).toEqual([{ name: 'tmp' }, { name: 'uploads' }]);
    expect(twin.containerDefinitions?.[0]?.environment).toEqual([
      { name: 'WORDPRESS_SITE_URL', value: 'http://stepdeploy-verify.invalid' },
    ]);
    expect(twin.containerDefinitions?.[0]?.image).toBe(live.containerDefinitions?.[0]?.image);
    expect(await store.list('stepdeploy-wordpress')).toEqual([live.taskDefinitionArn]);
  });
});
