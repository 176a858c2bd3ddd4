import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in <root>/local/). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the Dockerfiles of the local service images live. */
export const IMAGES_DIR = join(PROJECT_ROOT, 'local', 'images');

/** Settings of the local stack; every address is loopback (docs/contracts.md "Local mode"). */
export interface LocalConfig {
  /** State directory: secrets, task definitions, tables, snapshots, HAProxy socket. */
  readonly stateDir: string;
  /** The service name used in labels and container names. */
  readonly service: string;
  /** HAProxy frontend port (the "ALB" listener). */
  readonly sitePort: number;
  readonly registryPort: number;
  readonly databasePort: number;
  /** First port tried for task containers; tasks take free ports from here up. */
  readonly taskPortBase: number;
  readonly baseImage: string;
  /**
   * The one factor by which local mode scales the synthesized stack's timings (target-group
   * health check interval and timeout, deregistration delay, the service's health check grace
   * period, the container health check): STEPDEPLOY_TIME_FACTOR, default
   * {@link DEFAULT_TIME_FACTOR}. Counts (thresholds, retries) are never scaled.
   */
  readonly timeFactor: number;
}

/**
 * 0.5: the template's 10 s interval and 5 s timeout become 5 s and 2.5 s, so a release's
 * health gate takes seconds, not half a minute, while a check still waits over ten times the
 * home page's p99 at half of capacity. A timeout judges latency, which does not shrink
 * locally: at 0.3 (1.5 s) checks of known-good tasks timed out while a build and four tasks
 * shared two cores, and replacing those tasks made the overload worse.
 */
export const DEFAULT_TIME_FACTOR = 0.5;

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535)
    throw new Error(`environment variable ${name} must be a TCP port (1-65535), got ${raw}`);
  return value;
}

/**
 * STEPDEPLOY_TIME_FACTOR (default {@link DEFAULT_TIME_FACTOR}): a number from 0.05 to 1; 1 runs
 * the stack's timings as AWS would. Pure.
 */
export function timeFactorFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.STEPDEPLOY_TIME_FACTOR;
  if (raw === undefined || raw.trim() === '') return DEFAULT_TIME_FACTOR;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0.05 || value > 1)
    throw new Error(
      `environment variable STEPDEPLOY_TIME_FACTOR must be a number from 0.05 to 1 (1 = AWS timings), got ${raw}`,
    );
  return value;
}

/**
 * The local configuration from the environment: STEPDEPLOY_HOME (default <project>/.stepdeploy),
 * STEPDEPLOY_SERVICE, STEPDEPLOY_SITE_PORT, STEPDEPLOY_REGISTRY_PORT, STEPDEPLOY_DB_PORT,
 * STEPDEPLOY_TASK_PORT_BASE and STEPDEPLOY_TIME_FACTOR. Explicit overrides win over the environment.
 */
export function loadConfig(
  overrides: Partial<LocalConfig> = {},
  env: NodeJS.ProcessEnv = process.env,
): LocalConfig {
  return {
    stateDir: resolve(env.STEPDEPLOY_HOME || join(PROJECT_ROOT, '.stepdeploy')),
    service: env.STEPDEPLOY_SERVICE || 'wordpress',
    sitePort: port(env, 'STEPDEPLOY_SITE_PORT', 8080),
    registryPort: port(env, 'STEPDEPLOY_REGISTRY_PORT', 5000),
    databasePort: port(env, 'STEPDEPLOY_DB_PORT', 13306),
    taskPortBase: port(env, 'STEPDEPLOY_TASK_PORT_BASE', 18000),
    baseImage: 'stepdeploy/base:trixie',
    timeFactor: timeFactorFromEnv(env),
    ...overrides,
  };
}
