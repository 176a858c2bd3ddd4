import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HealthCheckSettings } from './load-balancer.ts';

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
   * The load balancer's health check as set in the environment; what is not set keeps the
   * load balancer's defaults (`DEFAULT_HEALTH_CHECK` in local/load-balancer.ts).
   */
  readonly healthCheck: Partial<HealthCheckSettings>;
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535)
    throw new Error(`environment variable ${name} must be a TCP port (1-65535), got ${raw}`);
  return value;
}

function whole(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new Error(
      `environment variable ${name} must be a whole number from ${min} to ${max}, got ${raw}`,
    );
  return value;
}

/**
 * Health-check settings of the local load balancer set in the environment (only those set):
 * STEPDEPLOY_HEALTH_CHECK_INTERVAL_MS, _TIMEOUT_MS, _RISE, _FALL, _GRACE_MS. Pure.
 */
export function healthCheckFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Partial<HealthCheckSettings> {
  const values = {
    intervalMs: whole(env, 'STEPDEPLOY_HEALTH_CHECK_INTERVAL_MS', 100, 300_000),
    timeoutMs: whole(env, 'STEPDEPLOY_HEALTH_CHECK_TIMEOUT_MS', 100, 120_000),
    rise: whole(env, 'STEPDEPLOY_HEALTH_CHECK_RISE', 1, 10),
    fall: whole(env, 'STEPDEPLOY_HEALTH_CHECK_FALL', 1, 10),
    startGraceMs: whole(env, 'STEPDEPLOY_HEALTH_CHECK_GRACE_MS', 0, 3_600_000),
  };
  return Object.fromEntries(
    Object.entries(values).filter(([, v]) => v !== undefined),
  ) as Partial<HealthCheckSettings>;
}

/**
 * The local configuration from the environment: STEPDEPLOY_HOME (default <project>/.stepdeploy),
 * STEPDEPLOY_SERVICE, STEPDEPLOY_SITE_PORT, STEPDEPLOY_REGISTRY_PORT, STEPDEPLOY_DB_PORT,
 * STEPDEPLOY_TASK_PORT_BASE and the STEPDEPLOY_HEALTH_CHECK_* settings. Explicit overrides win over the environment.
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
    healthCheck: healthCheckFromEnv(env),
    ...overrides,
  };
}
