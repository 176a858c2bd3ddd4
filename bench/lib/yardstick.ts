/**
 * The image build's yardstick: a plain Dockerfile build of the image Packer made, written
 * from that image so that the two can never drift apart (a hand-kept Dockerfile did).
 *
 * - packages stage: the base image + the Debian packages the base stage installed by hand
 *   (`apt-mark showmanual` of the base stage minus that of the base image), one RUN;
 * - app stage: the Packer image's top layer (the app stage's own files, owners and modes
 *   kept) as a tar ADDed in one layer, the paths it deletes removed, the role's checks run
 *   (`apache2 -t` through the entrypoint, `php -l` of each PHP file the layer adds);
 * - the same image metadata (exposed ports, volumes, user, workdir, entrypoint, cmd, env,
 *   labels).
 *
 * The layer is read from Docker's overlay2 directory for it, so this needs root and the
 * overlay2 storage driver, as CI and the local mode have.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { docker } from '../../local/docker.ts';

const run = promisify(execFile);

/** The parts of `docker image inspect`'s Config the yardstick repeats. */
export interface ImageConfig {
  readonly ExposedPorts?: Record<string, unknown> | null;
  readonly Volumes?: Record<string, unknown> | null;
  readonly User?: string;
  readonly WorkingDir?: string;
  readonly Entrypoint?: readonly string[] | null;
  readonly Cmd?: readonly string[] | null;
  readonly Env?: readonly string[] | null;
  readonly Labels?: Record<string, string> | null;
}

/** What the Dockerfile is made of. */
export interface YardstickInputs {
  readonly baseImage: string;
  /** Debian packages to install in the packages stage. */
  readonly packages: readonly string[];
  /** Absolute paths the app layer deletes (its whiteouts). */
  readonly deleted: readonly string[];
  /** Absolute paths of the PHP files the app layer adds. */
  readonly phpFiles: readonly string[];
  readonly config: ImageConfig;
}

const quote = (value: string) => JSON.stringify(value);

/** The yardstick's Dockerfile. Pure. */
export function yardstickDockerfile(inputs: YardstickInputs): string {
  if (inputs.packages.length === 0) throw new Error('the base stage installed no package by hand');
  const { config } = inputs;
  const lines = [
    '# Written by bench/lib/yardstick.ts from the image Packer built: do not edit.',
    `FROM ${inputs.baseImage}`,
    'RUN apt-get update -qq \\',
    ' && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \\',
    `      ${[...inputs.packages].sort().join(' ')} >/dev/null \\`,
    ' && apt-get clean && rm -rf /var/lib/apt/lists/*',
    'ADD app-layer.tar /',
  ];
  const checks = [
    ...(inputs.deleted.length > 0 ? [`rm -rf ${inputs.deleted.map(quote).join(' ')}`] : []),
    'WORDPRESS_ENTRYPOINT_QUIET=1 /usr/local/bin/stepdeploy-entrypoint apache2 -t',
    ...inputs.phpFiles.map((file) => `php -l ${quote(file)} >/dev/null`),
    // The check leaves Apache's runtime directory in /tmp, as in the role, which empties it.
    'rm -rf /tmp/apache2',
  ];
  lines.push(`RUN set -e; ${checks.join(' && ')}`);
  for (const env of config.Env ?? []) {
    const at = env.indexOf('=');
    if (at > 0) lines.push(`ENV ${env.slice(0, at)}=${quote(env.slice(at + 1))}`);
  }
  for (const port of Object.keys(config.ExposedPorts ?? {})) lines.push(`EXPOSE ${port}`);
  const volumes = Object.keys(config.Volumes ?? {});
  if (volumes.length > 0) lines.push(`VOLUME ${JSON.stringify(volumes)}`);
  if (config.User) lines.push(`USER ${config.User}`);
  if (config.WorkingDir) lines.push(`WORKDIR ${config.WorkingDir}`);
  if (config.Entrypoint?.length) lines.push(`ENTRYPOINT ${JSON.stringify(config.Entrypoint)}`);
  if (config.Cmd?.length) lines.push(`CMD ${JSON.stringify(config.Cmd)}`);
  for (const [key, value] of Object.entries(config.Labels ?? {}).sort())
    lines.push(`LABEL ${quote(key)}=${quote(value)}`);
  return `${lines.join('\n')}\n`;
}

/** Packages marked manual in `stage` and not in `base`: what the base stage installed. Pure. */
export function addedPackages(stage: readonly string[], base: readonly string[]): string[] {
  const before = new Set(base);
  return [...new Set(stage)].filter((name) => name !== '' && !before.has(name)).sort();
}

async function manualPackages(image: string): Promise<string[]> {
  const args = [
    'run',
    '--rm',
    '--network',
    'none',
    '--entrypoint',
    'apt-mark',
    image,
    'showmanual',
  ];
  return (await docker(args)).split('\n').map((line) => line.trim());
}

/**
 * Writes the yardstick's build context for the Packer image `imageRef` (built on
 * `baseImage`) into `dir`: its Dockerfile and app-layer.tar.
 */
export async function writeYardstickContext(
  imageRef: string,
  baseImage: string,
  dir: string,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const [inspected] = JSON.parse(await docker(['image', 'inspect', imageRef])) as [
    {
      Config: ImageConfig & { Labels?: Record<string, string> | null };
      GraphDriver: { Name: string; Data: { UpperDir?: string } };
    },
  ];
  const layerDir = inspected.GraphDriver.Data.UpperDir;
  if (inspected.GraphDriver.Name !== 'overlay2' || !layerDir)
    throw new Error(
      `the yardstick reads overlay2 layers; ${imageRef} is on ${inspected.GraphDriver.Name}`,
    );
  const baseStage = inspected.Config.Labels?.['org.opencontainers.image.base.name'];
  if (!baseStage)
    throw new Error(`${imageRef} names no base stage (org.opencontainers.image.base.name)`);

  // Whiteouts (character devices 0/0) are deletions, not files.
  const { stdout: whiteouts } = await run('find', ['.', '-type', 'c'], { cwd: layerDir });
  const deleted = whiteouts
    .split('\n')
    .filter(Boolean)
    .map((path) => path.slice(1));
  const { stdout: kept } = await run('find', ['.', '!', '-type', 'c', '!', '-path', '.'], {
    cwd: layerDir,
    maxBuffer: 64 * 1024 * 1024,
  });
  const entries = kept.split('\n').filter(Boolean);
  await writeFile(join(dir, 'app-layer.files'), `${entries.join('\n')}\n`);
  await run('tar', [
    '-C',
    layerDir,
    '--numeric-owner',
    '--no-recursion',
    '-T',
    join(dir, 'app-layer.files'),
    '-cf',
    join(dir, 'app-layer.tar'),
  ]);
  const phpFiles = entries
    .filter((path) => path.endsWith('.php') && path.startsWith('./var/lib/wordpress/wp-content/'))
    .map((path) => path.slice(1));

  const packages = addedPackages(await manualPackages(baseStage), await manualPackages(baseImage));
  await writeFile(
    join(dir, 'Dockerfile'),
    yardstickDockerfile({ baseImage, packages, deleted, phpFiles, config: inspected.Config }),
  );
  await writeFile(join(dir, '.dockerignore'), 'app-layer.files\n');
}

/** Size and layer count of a local image. */
export async function imageShape(ref: string): Promise<{ sizeBytes: number; layers: number }> {
  const [inspected] = JSON.parse(await docker(['image', 'inspect', ref])) as [
    { Size: number; RootFS: { Layers?: readonly string[] } },
  ];
  return { sizeBytes: inspected.Size, layers: inspected.RootFS.Layers?.length ?? 0 };
}
