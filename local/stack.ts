import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { recordAccessPoints } from './access-points.ts';
import {
  type ApplicationTemplate,
  accessPointsFromTemplate,
  applicationFromTemplates,
  targetGroupSettings,
} from './application.ts';
import type { BuildPhaseEvent } from './build-phases.ts';
import { IMAGES_DIR, type LocalConfig, loadConfig, PROJECT_ROOT } from './config.ts';
import { type DatabaseHandle, startDatabase } from './database.ts';
import {
  buildImageOnce,
  containersByLabel,
  docker,
  inspectContainers,
  LABEL_MANAGED,
  LABEL_ROLE,
  networksByLabel,
  removeContainer,
  removeVolume,
  volumesByLabel,
} from './docker.ts';
import { ensureBaseImage, ensureEngine } from './engine.ts';
import { type HealthCheckSettings, LoadBalancer } from './load-balancer.ts';
import { ensureRegistry, type RegistryHandle } from './registry.ts';
import { synthesizedTemplates } from './synth.ts';
import type { CfnTemplate } from './template.ts';

/** The running local stack: where each part is reached (all on 127.0.0.1). */
export interface StackHandle {
  readonly config: LocalConfig;
  readonly registry: RegistryHandle;
  readonly database: DatabaseHandle;
  readonly loadBalancer: LoadBalancer;
  /** The synthesized application stack the local service runs (task definition, target group). */
  readonly application: ApplicationTemplate;
  /** The site URL through the load balancer. */
  readonly siteUrl: string;
  /** 'already-up' when every part was running before the call. */
  readonly outcome: 'already-up' | 'started';
}

/** Options for {@link up}. */
export interface UpOptions extends Partial<LocalConfig> {
  /** Progress lines (never secrets). */
  readonly log?: (line: string) => void;
  /** Overrides of the synthesized target group's health check (tests only). */
  readonly healthCheck?: Partial<HealthCheckSettings>;
  /** The synthesized templates, when the caller has them (default: `cdk synth`, cached). */
  readonly templates?: Record<string, CfnTemplate>;
  /** Each phase of the images a first `up` builds (base image, registry, MariaDB, HAProxy). */
  readonly onBuildPhase?: (event: BuildPhaseEvent) => void;
}

/** The images of the stack's own parts, each built from its Dockerfile under local/images/. */
const PART_IMAGES = ['registry', 'mariadb', 'haproxy'] as const;

const DATABASE_NAME = (service: string) => `${service}-db`;

async function runningRoles(service: string): Promise<Set<string>> {
  const ids = await containersByLabel({ [LABEL_MANAGED]: 'true', 'stepdeploy.service': service });
  return new Set(
    (await inspectContainers(ids))
      .filter((c) => c.State.Running)
      .map((c) => c.Config.Labels?.[LABEL_ROLE] ?? ''),
  );
}

/**
 * Brings the local stack up: Docker engine, base image, registry, database, load balancer.
 * Idempotent: a second call finds everything running and reports `already-up`.
 */
export async function up(opts: UpOptions = {}): Promise<StackHandle> {
  const { log = () => {}, healthCheck, templates, onBuildPhase, ...overrides } = opts;
  const config = loadConfig(overrides);
  await mkdir(config.stateDir, { recursive: true, mode: 0o700 });
  // Like `cdk deploy`: the load balancer, EFS and task definition come from the synthesized app.
  const application = applicationFromTemplates(
    templates ?? (await synthesizedTemplates(config.stateDir, log)).templates,
  );
  const targetGroup = targetGroupSettings(application, config.timeFactor);
  for (const line of targetGroup.notHonoured) log(`load balancer: not honoured locally: ${line}`);
  await recordAccessPoints(config.stateDir, accessPointsFromTemplate(application));
  const engine = await ensureEngine({ log });
  if (engine === 'started') log('docker engine started');
  await ensureBaseImage(
    join(PROJECT_ROOT, 'scripts', 'base-image.sh'),
    config.baseImage,
    onBuildPhase,
  );
  // Built here, one after the other, so a first `up` shows each build's steps; the parts
  // below find their image by its content tag and build nothing.
  for (const image of PART_IMAGES)
    await buildImageOnce(image, join(IMAGES_DIR, image), onBuildPhase);
  const before = await runningRoles(config.service);

  log(`registry on 127.0.0.1:${config.registryPort}`);
  const registry = await ensureRegistry({ service: config.service, port: config.registryPort });
  log(`database on 127.0.0.1:${config.databasePort}`);
  const database = await startDatabase({
    name: DATABASE_NAME(config.service),
    service: config.service,
    port: config.databasePort,
    stateDir: config.stateDir,
  });
  const hc = targetGroup.healthCheck;
  log(
    `load balancer on 127.0.0.1:${config.sitePort}: target group ${application.targetGroup.logicalId} ` +
      `(${hc.path} every ${hc.intervalMs} ms, timeout ${hc.timeoutMs} ms, rise ${hc.rise}, fall ${hc.fall}, ` +
      `deregistration ${targetGroup.deregistrationDelayMs} ms, grace ${hc.startGraceMs} ms: ` +
      `the template's timings x ${config.timeFactor})`,
  );
  const loadBalancer = new LoadBalancer({
    service: config.service,
    stateDir: config.stateDir,
    port: config.sitePort,
    targetGroup,
    ...(healthCheck ? { healthCheck } : {}),
  });
  const lb = await loadBalancer.ensure();

  const wasUp =
    engine === 'running' &&
    lb === 'already-running' &&
    ['registry', 'database', 'load-balancer'].every((r) => before.has(r));
  return {
    config,
    registry,
    database,
    loadBalancer,
    application,
    siteUrl: loadBalancer.url,
    outcome: wasUp ? 'already-up' : 'started',
  };
}

/** What `status()` reports: every container of ours with its role and state. */
export interface StackStatus {
  readonly stateDir: string;
  readonly containers: readonly {
    readonly name: string;
    readonly role: string;
    readonly service: string;
    readonly state: string;
    readonly revision?: string;
  }[];
  readonly volumes: readonly string[];
}

/** Lists our containers (by label) and volumes. */
export async function status(overrides: Partial<LocalConfig> = {}): Promise<StackStatus> {
  const config = loadConfig(overrides);
  const containers = await inspectContainers(await containersByLabel({ [LABEL_MANAGED]: 'true' }));
  return {
    stateDir: config.stateDir,
    containers: containers.map((c) => ({
      name: c.Name.replace(/^\//, ''),
      role: c.Config.Labels?.[LABEL_ROLE] ?? '',
      service: c.Config.Labels?.['stepdeploy.service'] ?? '',
      state: c.State.Status,
      revision: c.Config.Labels?.['stepdeploy.revision'],
    })),
    volumes: await volumesByLabel({ [LABEL_MANAGED]: 'true' }),
  };
}

/**
 * Removes every container, volume and network labelled `stepdeploy.managed=true` for the
 * configured service (every service with `all`), and the state dir (secrets, snapshots,
 * tables) unless keepData — then volumes are kept too.
 */
export async function down(
  opts: Partial<LocalConfig> & { readonly keepData?: boolean; readonly all?: boolean } = {},
): Promise<{ containers: number; volumes: number; networks: number }> {
  const { keepData, all, ...overrides } = opts;
  const config = loadConfig(overrides);
  const filter: Record<string, string> = { [LABEL_MANAGED]: 'true' };
  if (!all) filter['stepdeploy.service'] = config.service;
  const containers = await containersByLabel(filter);
  for (const id of containers) await removeContainer(id);
  let volumes: string[] = [];
  if (!keepData) {
    volumes = await volumesByLabel(filter);
    for (const v of volumes) await removeVolume(v);
  }
  const networks = await networksByLabel(filter);
  for (const n of networks) await docker(['network', 'rm', n]);
  if (!keepData) await rm(config.stateDir, { recursive: true, force: true });
  return { containers: containers.length, volumes: volumes.length, networks: networks.length };
}
