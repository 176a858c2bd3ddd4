/**
 * Image build benchmark: the Packer + Ansible build (local/packer.ts) against a plain
 * `docker build` of the equivalent Dockerfile (local/images/wordpress-yardstick).
 *
 *   cold       base stage and app stage removed: everything from the Debian mirror
 *   unchanged  same inputs again: both stages reused, only tag + push
 *   app-only   a new source revision (what every release brings): app stage only
 *   yardstick  docker build --no-cache (cold) and with its layer cache (warm), + push
 *
 * Cold runs push to a fresh, empty registry on 127.0.0.1:5002; the others push to the
 * registry the cold run filled, as a release pushes to an ECR repository that already
 * holds the previous image. Do not run beside other image builds: the cold run deletes
 * the cached stages. Usage: npx tsx bench/image-build.ts   (writes bench/results/image-build.json)
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { buildImage, type ImageBuildResult } from '../local/packer.ts';
import { ensureRegistry, removeRegistry } from '../local/registry.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const REGISTRY_SERVICE = 'image-bench';
const REGISTRY_PORT = 5002;
const REGISTRY = `127.0.0.1:${REGISTRY_PORT}`;
const REPOSITORY = 'stepdeploy-bench/wordpress';
const YARDSTICK_TAG = `${REGISTRY}/stepdeploy-bench/wordpress-yardstick:bench`;
const BASE_IMAGE = 'stepdeploy/base:trixie';

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { maxBuffer: 256 * 1024 * 1024 });
  return stdout.trim();
}

/** A fresh, empty registry (local/registry.ts), so every scenario pushes the same way. */
async function freshRegistry(): Promise<void> {
  await removeRegistry({ service: REGISTRY_SERVICE });
  await ensureRegistry({ service: REGISTRY_SERVICE, port: REGISTRY_PORT });
}

/** Removes the cached stages local/packer.ts made, to force a cold build. */
async function dropPackerStages(): Promise<void> {
  for (const repo of ['stepdeploy/wordpress-base', 'stepdeploy/wordpress-app']) {
    const refs = (await docker('image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', repo))
      .split('\n')
      .filter(Boolean);
    if (refs.length > 0) await docker('image', 'rm', '-f', ...refs);
  }
}

async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const started = process.hrtime.bigint();
  const value = await fn();
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, value };
}

async function yardstick(cold: boolean): Promise<number> {
  const args = ['build', '-q', '-t', YARDSTICK_TAG];
  if (cold) args.push('--no-cache');
  args.push('-f', join(ROOT, 'local/images/wordpress-yardstick/Dockerfile'));
  args.push(join(ROOT, 'ansible/roles/wordpress'));
  const { seconds } = await timed(async () => {
    await docker(...args);
    await docker('push', '-q', YARDSTICK_TAG);
  });
  return seconds;
}

interface Row {
  scenario: string;
  seconds: number;
  detail: string;
}

async function main(): Promise<void> {
  await run(join(ROOT, 'scripts/base-image.sh'), []);
  const revision = `bench${Date.now().toString(36)}`;
  const packer = (sourceRevision: string) =>
    timed(() => buildImage({ sourceRevision, registry: REGISTRY, repository: REPOSITORY }));
  const describe = (r: ImageBuildResult) =>
    `base ${r.baseReused ? 'reused' : 'built'} ${(r.durationsMs.base / 1000).toFixed(1)}s, app ${
      r.appStageSkipped ? 'skipped' : 'built'
    } ${(r.durationsMs.app / 1000).toFixed(1)}s, push ${(r.durationsMs.push / 1000).toFixed(1)}s`;

  const rows: Row[] = [];
  try {
    await dropPackerStages();
    await freshRegistry();
    const cold = await packer(revision);
    rows.push({ scenario: 'packer cold', seconds: cold.seconds, detail: describe(cold.value) });

    const unchanged = await packer(revision);
    rows.push({
      scenario: 'packer unchanged',
      seconds: unchanged.seconds,
      detail: describe(unchanged.value),
    });

    const appOnly = await packer(`${revision}-next`);
    rows.push({
      scenario: 'packer app-only',
      seconds: appOnly.seconds,
      detail: describe(appOnly.value),
    });

    await freshRegistry();
    rows.push({
      scenario: 'dockerfile cold',
      seconds: await yardstick(true),
      detail: '--no-cache + push',
    });
    rows.push({
      scenario: 'dockerfile warm',
      seconds: await yardstick(false),
      detail: 'layer cache + push',
    });
  } finally {
    await removeRegistry({ service: REGISTRY_SERVICE }).catch(() => undefined);
  }

  const secondsOf = (name: string) => rows.find((r) => r.scenario === name)?.seconds ?? Number.NaN;
  const ratios = {
    coldVsDockerfileCold: secondsOf('packer cold') / secondsOf('dockerfile cold'),
    unchangedVsDockerfileWarm: secondsOf('packer unchanged') / secondsOf('dockerfile warm'),
    appOnlyVsDockerfileWarm: secondsOf('packer app-only') / secondsOf('dockerfile warm'),
    appOnlyVsPackerCold: secondsOf('packer app-only') / secondsOf('packer cold'),
  };

  console.log('scenario           seconds  detail');
  for (const r of rows)
    console.log(`${r.scenario.padEnd(18)} ${r.seconds.toFixed(1).padStart(7)}  ${r.detail}`);
  for (const [name, value] of Object.entries(ratios))
    console.log(`${name.padEnd(28)} ${value.toFixed(2)}x`);

  const packerVersion = (await run('packer', ['version'])).stdout.trim().split('\n')[0];
  await mkdir(join(ROOT, 'bench/results'), { recursive: true });
  await writeFile(
    join(ROOT, 'bench/results/image-build.json'),
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        baseImage: BASE_IMAGE,
        packer: packerVersion,
        rows,
        ratios,
      },
      null,
      2,
    )}\n`,
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
