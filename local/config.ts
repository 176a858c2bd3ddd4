import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';

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

/** A local setting in the environment is malformed; the message names the variable. */
export class LocalConfigError extends Error {
  constructor(name: string, detail: string) {
    super(`environment variable ${name} ${detail}`);
    this.name = 'LocalConfigError';
  }
}

const unset = (raw: unknown) => raw === undefined || (typeof raw === 'string' && raw.trim() === '');

/** A TCP port, `fallback` when unset or empty. */
const port = (fallback: number) =>
  z.preprocess(
    (raw) => (raw === undefined || raw === '' ? String(fallback) : raw),
    z
      .string()
      .refine(
        (raw) => {
          const value = Number(raw);
          return Number.isInteger(value) && value >= 1 && value <= 65535;
        },
        { error: (issue) => `must be a TCP port (1-65535), got ${issue.input}` },
      )
      .transform(Number),
  );

/** STEPDEPLOY_TIME_FACTOR: a number from 0.05 to 1, {@link DEFAULT_TIME_FACTOR} when unset. */
const timeFactor = z.preprocess(
  (raw) => (unset(raw) ? String(DEFAULT_TIME_FACTOR) : raw),
  z
    .string()
    .refine(
      (raw) => {
        const value = Number(raw);
        return Number.isFinite(value) && value >= 0.05 && value <= 1;
      },
      {
        error: (issue) => `must be a number from 0.05 to 1 (1 = AWS timings), got ${issue.input}`,
      },
    )
    .transform(Number),
);

/** The environment local mode reads, each variable with its default. */
export const localEnvironmentSchema = z.object({
  STEPDEPLOY_HOME: z.string().optional(),
  STEPDEPLOY_SERVICE: z.string().optional(),
  STEPDEPLOY_SITE_PORT: port(8080),
  STEPDEPLOY_REGISTRY_PORT: port(5000),
  STEPDEPLOY_DB_PORT: port(13306),
  STEPDEPLOY_TASK_PORT_BASE: port(18000),
  STEPDEPLOY_TIME_FACTOR: timeFactor,
});

/** Parses `schema` from `env`, throwing a LocalConfigError naming the first bad variable. */
function parseEnvironment<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new LocalConfigError(
    String(issue?.path[0] ?? 'STEPDEPLOY_TIME_FACTOR'),
    issue?.message ?? 'is malformed',
  );
}

/**
 * STEPDEPLOY_TIME_FACTOR (default {@link DEFAULT_TIME_FACTOR}): a number from 0.05 to 1; 1 runs
 * the stack's timings as AWS would. Pure.
 */
export function timeFactorFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return parseEnvironment(localEnvironmentSchema.pick({ STEPDEPLOY_TIME_FACTOR: true }), env)
    .STEPDEPLOY_TIME_FACTOR;
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
  const read = parseEnvironment(localEnvironmentSchema, env);
  return {
    stateDir: resolve(read.STEPDEPLOY_HOME || join(PROJECT_ROOT, '.stepdeploy')),
    service: read.STEPDEPLOY_SERVICE || 'wordpress',
    sitePort: read.STEPDEPLOY_SITE_PORT,
    registryPort: read.STEPDEPLOY_REGISTRY_PORT,
    databasePort: read.STEPDEPLOY_DB_PORT,
    taskPortBase: read.STEPDEPLOY_TASK_PORT_BASE,
    baseImage: 'stepdeploy/base:trixie',
    timeFactor: read.STEPDEPLOY_TIME_FACTOR,
    ...overrides,
  };
}
