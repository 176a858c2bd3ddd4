import { join } from 'node:path';
import { NamedError } from '#commons/errors.ts';
import { pollUntil } from '#commons/wait.ts';
import { IMAGES_DIR } from './config.ts';
import {
  buildImageOnce,
  containerLogs,
  ensureVolume,
  inspectContainer,
  removeContainer,
  removeVolume,
  roleLabels,
  runContainer,
} from './docker.ts';

/** The local registry did not come up. */
export class RegistryError extends NamedError {
  override readonly name = 'RegistryError';
}

/** Options for {@link ensureRegistry}. */
export interface RegistryOptions {
  readonly service?: string;
  readonly port?: number;
}

/** A reachable registry: push to `${url}/<repo>:<tag>`. */
export interface RegistryHandle {
  readonly url: string;
  readonly container: string;
  readonly volume: string;
}

function names(service: string): { container: string; volume: string } {
  return {
    container: `stepdeploy-${service}-registry`,
    volume: `stepdeploy-${service}-registry-data`,
  };
}

/**
 * Starts (or finds running) the local "ECR": Debian's docker-registry on 127.0.0.1:<port>
 * (default 5000) with storage in a labelled volume. Docker treats 127.0.0.0/8 registries as
 * insecure-allowed, so plain HTTP pushes work without engine configuration. Idempotent.
 */
export async function ensureRegistry(opts: RegistryOptions = {}): Promise<RegistryHandle> {
  const service = opts.service ?? 'wordpress';
  const port = opts.port ?? 5000;
  const { container, volume } = names(service);
  const url = `127.0.0.1:${port}`;
  const existing = await inspectContainer(container);
  if (!existing?.State.Running) {
    if (existing) await removeContainer(container);
    const image = await buildImageOnce('registry', join(IMAGES_DIR, 'registry'));
    await ensureVolume(volume, roleLabels(service, 'registry'));
    await runContainer({
      name: container,
      image,
      labels: roleLabels(service, 'registry'),
      env: { REGISTRY_HTTP_ADDR: url },
      mounts: [`${volume}:/var/lib/docker-registry`],
      restart: 'unless-stopped',
    });
  }
  let last: unknown;
  await pollUntil(
    async () => {
      try {
        const res = await fetch(`http://${url}/v2/`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) return true;
        last = new Error(`GET /v2/ answered ${res.status}`);
      } catch (err) {
        last = err;
      }
      const c = await inspectContainer(container);
      if (!c?.State.Running)
        throw new RegistryError(
          `registry container exited: ${(await containerLogs(container, 20).catch(() => '')).trim()}`,
        );
      return false;
    },
    {
      intervalMs: 200,
      timeoutMs: 30_000,
      description: `the registry at ${url}`,
      onTimeout: () => {
        throw new RegistryError(`registry at ${url} did not answer: ${(last as Error)?.message}`, {
          cause: last,
        });
      },
    },
  );
  return { url, container, volume };
}

/** Removes the registry container (and its storage volume unless keepData). */
export async function removeRegistry(
  opts: RegistryOptions & { readonly keepData?: boolean } = {},
): Promise<void> {
  const { container, volume } = names(opts.service ?? 'wordpress');
  await removeContainer(container);
  if (!opts.keepData) await removeVolume(volume);
}
