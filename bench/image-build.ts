/**
 * Image build benchmark: the Packer + Ansible build (local/packer.ts) against a plain
 * `docker build` of the same image, in the same run.
 *
 *   packer cold        base stage and app stage removed: everything from the Debian mirror
 *   packer unchanged   same inputs again: the app stage is recognised by its content hash
 *   packer app-only    a site change and a new revision (what a release brings): app stage only
 *
 * The yardstick is a Dockerfile written from what Packer built (bench/lib/yardstick.ts): a
 * packages stage with the same Debian packages, then the app stage's own layer as files (the
 * top layer of the Packer image, owners kept) plus the role's checks and the same metadata.
 * Built --no-cache (cold), then with its layer cache for the unchanged and the app-only case,
 * where only the application layer differs, as it does for Packer.
 *
 * Cold runs push to a fresh, empty registry on 127.0.0.1:5002; the others push to the
 * registry the cold run filled, as a release pushes to an ECR repository that already
 * holds the previous image. Do not run beside other image builds: the cold run deletes
 * the cached stages. Usage: npx tsx bench/image-build.ts   (writes bench/results/image-build.json)
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { docker } from '../local/docker.ts';
import {
  buildImage,
  type ImageBuildResult,
  LOCAL_BUILD_CPU_SHARES,
  LOCAL_BUILD_NICE,
} from '../local/packer.ts';
import { ensureRegistry, removeRegistry } from '../local/registry.ts';
import { changedSiteSource } from './lib/fault-scenarios.ts';
import { isMain, RESULTS_DIR } from './lib/section.ts';
import { imageShape, writeYardstickContext } from './lib/yardstick.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const REGISTRY_SERVICE = 'image-bench';
const REGISTRY_PORT = 5002;
const REGISTRY = `127.0.0.1:${REGISTRY_PORT}`;
const REPOSITORY = 'stepdeploy-bench/wordpress';
const YARDSTICK_TAG = `${REGISTRY}/stepdeploy-bench/wordpress-yardstick:bench`;
const BASE_IMAGE = 'stepdeploy/base:trixie';

/** A fresh, empty registry (local/registry.ts), so every scenario pushes the same way. */
async function freshRegistry(): Promise<void> {
  await removeRegistry({ service: REGISTRY_SERVICE });
  await ensureRegistry({ service: REGISTRY_SERVICE, port: REGISTRY_PORT });
}

/** Removes the cached stages local/packer.ts made, to force a cold build. */
async function dropPackerStages(): Promise<void> {
  for (const repo of ['stepdeploy/wordpress-base', 'stepdeploy/wordpress-app']) {
    const refs = (await docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', repo]))
      .split('\n')
      .filter(Boolean);
    if (refs.length > 0) await docker(['image', 'rm', '-f', ...refs]);
  }
}

async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const started = process.hrtime.bigint();
  const value = await fn();
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, value };
}

/**
 * `docker build` of a yardstick context, then its push; the seconds of both. It runs with
 * the CPU weight and priority local/packer.ts gives a local build, so that on a busy
 * machine neither side of the ratio is starved more than the other.
 */
async function yardstick(context: string, cold: boolean): Promise<number> {
  const args = [
    'build',
    '-q',
    `--cpu-shares=${LOCAL_BUILD_CPU_SHARES}`,
    '-t',
    YARDSTICK_TAG,
    ...(cold ? ['--no-cache'] : []),
    context,
  ];
  const { seconds } = await timed(async () => {
    await run('nice', ['-n', String(LOCAL_BUILD_NICE), 'docker', ...args], {
      maxBuffer: 64 * 1024 * 1024,
    });
    await docker(['push', '-q', YARDSTICK_TAG]);
  });
  return seconds;
}

/** One timed build. */
export interface ImageBuildRow {
  readonly scenario: string;
  readonly seconds: number;
  readonly detail: string;
  /** Packer rows: whether the app stage was rebuilt. */
  readonly appStageBuilt?: boolean;
}

/** Size and layers of the image a build path made. */
export interface ImageShapeRow {
  readonly image: 'packer' | 'dockerfile';
  readonly sizeBytes: number;
  readonly layers: number;
}

/** What bench/results/image-build.json holds (bench/lib/adapters.ts reads it). */
export interface ImageBuildJson {
  readonly date: string;
  readonly baseImage: string;
  readonly packer: string;
  readonly rows: readonly ImageBuildRow[];
  readonly shapes: readonly ImageShapeRow[];
}

function describe(r: ImageBuildResult): string {
  return `base ${r.baseReused ? 'reused' : 'built'} ${(r.durationsMs.base / 1000).toFixed(1)}s, app ${
    r.appStageSkipped ? 'skipped (same content hash)' : 'built'
  } ${(r.durationsMs.app / 1000).toFixed(1)}s, push ${(r.durationsMs.push / 1000).toFixed(1)}s`;
}

async function main(): Promise<void> {
  await run(join(ROOT, 'scripts/base-image.sh'), []);
  const revision = `bench${Date.now().toString(36)}`;
  const work = await mkdtemp(join(tmpdir(), 'stepdeploy-image-bench-'));
  const packer = (sourceRevision: string, siteDir?: string) =>
    timed(() =>
      buildImage({
        sourceRevision,
        registry: REGISTRY,
        repository: REPOSITORY,
        ...(siteDir ? { siteDir } : {}),
      }),
    );
  const packerRow = (scenario: string, r: { seconds: number; value: ImageBuildResult }) => ({
    scenario,
    seconds: r.seconds,
    detail: describe(r.value),
    appStageBuilt: r.value.appStageSkipped !== true,
  });
  const localRef = (r: ImageBuildResult) => `${REGISTRY}/${REPOSITORY}:${r.tag}`;

  const rows: ImageBuildRow[] = [];
  const shapes: ImageShapeRow[] = [];
  try {
    await dropPackerStages();
    await freshRegistry();
    const cold = await packer(revision);
    rows.push(packerRow('packer cold', cold));
    rows.push(packerRow('packer unchanged', await packer(revision)));
    const changedSite = await changedSiteSource(work, `${revision}-next`);
    const appOnly = await packer(`${revision}-next`, changedSite);
    rows.push(packerRow('packer app-only', appOnly));

    // The yardstick's contexts, written from the two Packer images (not timed).
    const coldContext = join(work, 'yardstick-cold');
    const nextContext = join(work, 'yardstick-next');
    await writeYardstickContext(localRef(cold.value), BASE_IMAGE, coldContext);
    await writeYardstickContext(localRef(appOnly.value), BASE_IMAGE, nextContext);

    await freshRegistry();
    rows.push({
      scenario: 'dockerfile cold',
      seconds: await yardstick(coldContext, true),
      detail: '--no-cache + push',
    });
    rows.push({
      scenario: 'dockerfile unchanged',
      seconds: await yardstick(coldContext, false),
      detail: 'layer cache, same context + push',
    });
    rows.push({
      scenario: 'dockerfile app-only',
      seconds: await yardstick(nextContext, false),
      detail: 'layer cache, only the application layer changed + push',
    });
    shapes.push({ image: 'packer', ...(await imageShape(localRef(appOnly.value))) });
    shapes.push({ image: 'dockerfile', ...(await imageShape(YARDSTICK_TAG)) });
  } finally {
    await removeRegistry({ service: REGISTRY_SERVICE }).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }

  console.log('scenario              seconds  detail');
  for (const r of rows)
    console.log(`${r.scenario.padEnd(21)} ${r.seconds.toFixed(1).padStart(7)}  ${r.detail}`);
  for (const s of shapes)
    console.log(`${s.image} image: ${(s.sizeBytes / 2 ** 20).toFixed(0)} MiB, ${s.layers} layers`);

  const packerVersion = (await run('packer', ['version'])).stdout.trim().split('\n')[0] ?? '';
  const json: ImageBuildJson = {
    date: new Date().toISOString(),
    baseImage: BASE_IMAGE,
    packer: packerVersion,
    rows,
    shapes,
  };
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(join(RESULTS_DIR, 'image-build.json'), `${JSON.stringify(json, null, 2)}\n`);
}

if (isMain(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
