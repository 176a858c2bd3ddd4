import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// Runs the real `cdk synth` the way CI and users do: no AWS credentials, no Docker (a
// fallback to Docker bundling would fail loudly), nothing but the local toolchain.
const root = fileURLToPath(new URL('../..', import.meta.url));
const cdk = join(root, 'node_modules', '.bin', 'cdk');
const outDirs: string[] = [];

function offlineEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('AWS_') && !name.startsWith('CDK_')) env[name] = value;
  }
  return {
    ...env,
    CDK_DOCKER: '/nonexistent',
    // Keep the SDK from probing the instance metadata endpoint for credentials.
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    AWS_CONFIG_FILE: '/nonexistent',
    ...extra,
  };
}

function synth(args: string[], extraEnv: Record<string, string> = {}) {
  const outDir = mkdtempSync(join(tmpdir(), 'stepdeploy-synth-'));
  outDirs.push(outDir);
  const result = spawnSync(cdk, ['synth', '--quiet', '--no-notices', '-o', outDir, ...args], {
    cwd: root,
    env: offlineEnv(extraEnv),
    encoding: 'utf8',
    timeout: 240_000,
  });
  // The tail is where cdk-nag's report and errors land; bundling logs come before it.
  const output = `${result.stdout}\n${result.stderr}`;
  return { ...result, outDir, output, tail: output.slice(-4000) };
}

afterAll(() => {
  for (const dir of outDirs) rmSync(dir, { recursive: true, force: true });
});

describe('cdk synth', () => {
  it('synthesizes the app offline, without credentials or Docker, with no nag finding', () => {
    // Prepare + Act
    const result = synth([]);
    // Assess
    expect(result.error).toBeUndefined();
    expect(result.status, result.tail).toBe(0);
    const template = join(result.outDir, 'stepdeploy-application.template.json');
    expect(existsSync(template)).toBe(true);
    const resources = Object.values(
      (
        JSON.parse(readFileSync(template, 'utf8')) as {
          Resources: Record<string, { Type: string }>;
        }
      ).Resources,
    ).map((resource) => resource.Type);
    expect(resources).toEqual(
      expect.arrayContaining(['AWS::ECS::Service', 'AWS::RDS::DBInstance', 'AWS::EFS::FileSystem']),
    );
    expect(result.output).not.toMatch(/AwsSolutions-/);
    // Every template of the assembly (the pipeline stack too, once wired) is present.
    expect(
      readdirSync(result.outDir).filter((file) => file.endsWith('.template.json')),
    ).not.toEqual([]);
  }, 240_000);

  it('fails on an unacknowledged cdk-nag finding and names the rule', () => {
    // Prepare
    const app = 'npx tsx test/cdk/fixtures/nag-fixture-app.ts';
    // Act
    const result = synth(['--app', app]);
    // Assess
    expect(result.error).toBeUndefined();
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/AwsSolutions-S1/);
  }, 240_000);

  it('passes the same app once that finding is acknowledged', () => {
    // Prepare
    const app = 'npx tsx test/cdk/fixtures/nag-fixture-app.ts';
    // Act
    const result = synth(['--app', app], { NAG_FIXTURE_ACKNOWLEDGE: '1' });
    // Assess
    expect(result.status, result.tail).toBe(0);
    expect(existsSync(join(result.outDir, 'NagFixture.template.json'))).toBe(true);
  }, 240_000);
});
