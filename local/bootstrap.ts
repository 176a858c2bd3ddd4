import { join } from 'node:path';
import type { RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import { NamedError } from '#commons/errors.ts';
import { buildLedgerRecord, type ReleaseState } from '#commons/ledger.ts';
import { checkInstalled } from '#functions/check-installed/check-installed.ts';
import {
  type ApplicationTemplate,
  applicationFromTemplates,
  type TemplateSecret,
  taskDefinitionRegistration,
} from './application.ts';
import type { BuildPhaseEvent } from './build-phases.ts';
import { buildImage } from './packer.ts';
import type { ServiceEvent } from './scheduler.ts';
import { ensureSecret, readSecret, writeSecret } from './secrets.ts';
import { repositoryOf } from './steps/build-image.ts';
import { createContext, familyOf, type StackParts, type StepContext } from './steps/context.ts';
import { releaseDefinition, releaseDesiredCount, synthesizedTemplates } from './synth.ts';
import { CONTAINER_NAME } from './tasks.ts';

/** The site could not be set up; the message says which part. */
export class BootstrapError extends NamedError {
  override readonly name = 'BootstrapError';
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

/**
 * Mode-600 files of the local Secrets Manager: one file per JSON key of a secret. The database
 * secret's `password` is the database's own file (local/database.ts); its `username` is a file
 * next to it; every other secret key is a file named after the secret and the key.
 */
export function siteSecretPaths(stateDir: string, service: string) {
  const dir = join(stateDir, 'secrets');
  return {
    /** One JSON key of a (non-database) secret, e.g. `stepdeploy/wordpress-salts` AUTH_KEY. */
    secretKey: (secretName: string, key: string) =>
      join(dir, `${service}-${slug(secretName.split('/').pop() ?? secretName)}-${slug(key)}`),
    /** The database user's name, as the database secret's `username` key. */
    databaseUser: (databaseName: string) => join(dir, `${databaseName}-username`),
  };
}

/** The local secret file that plays one key of one of the stack's secrets, or undefined. Pure. */
export function localSecretFile(
  stack: Pick<StackParts, 'config' | 'database'>,
  secret: TemplateSecret,
  key: string,
): string | undefined {
  const paths = siteSecretPaths(stack.config.stateDir, stack.config.service);
  if (secret.database) {
    if (key === 'password') return stack.database.passwordFile;
    if (key === 'username') return paths.databaseUser(stack.database.name);
    return undefined;
  }
  return paths.secretKey(secret.name, key);
}

/**
 * Revision 1 of the local task definition: the synthesized application stack's task
 * definition (local/application.ts `taskDefinitionRegistration`) with the image swapped for
 * `image`, the family named after the local service, the database endpoint pointed at the
 * local MariaDB, the load balancer's DNS name at HAProxy and every secret at the mode-600 file
 * that plays it (never a value). Pure.
 */
export function initialTaskDefinition(
  stack: Pick<StackParts, 'config' | 'database' | 'loadBalancer'> & {
    readonly application: ApplicationTemplate;
  },
  image: string,
): RegisterTaskDefinitionCommandInput {
  const { config, database } = stack;
  return taskDefinitionRegistration(
    stack.application,
    {
      family: familyOf(config.service),
      database: { host: database.host, port: database.port },
      loadBalancerAddress: new URL(stack.loadBalancer.url).host,
      secretFile: (secret, key) => localSecretFile(stack, secret, key),
    },
    { containerName: CONTAINER_NAME, uri: image },
  );
}

/**
 * Makes every secret file a registration references exist, as the stack's secrets exist once
 * deployed: the database user's name from the database, the database password as the database
 * keeps it, and every other key generated (like the salts generator) unless it is there.
 */
export async function ensureSecretFiles(
  stack: Pick<StackParts, 'config' | 'database'>,
  registration: RegisterTaskDefinitionCommandInput,
): Promise<void> {
  const userFile = siteSecretPaths(stack.config.stateDir, stack.config.service).databaseUser(
    stack.database.name,
  );
  for (const c of registration.containerDefinitions ?? [])
    for (const s of c.secrets ?? []) {
      const path = s.valueFrom as string;
      if (path === userFile) await writeSecret(path, stack.database.user);
      else if (path === stack.database.passwordFile) await readSecret(path);
      else await ensureSecret(path);
    }
}

/** The environment variable the install script reads the admin password from. */
export const ADMIN_PASSWORD_VARIABLE = 'WORDPRESS_ADMIN_PASSWORD';

/**
 * The local file that plays the admin password secret in a registration (the secret the
 * application stack generates; InstallWordPress's one-off task reads it), or undefined. Pure.
 */
export function adminPasswordFileOf(registration: {
  readonly containerDefinitions?: RegisterTaskDefinitionCommandInput['containerDefinitions'];
}): string | undefined {
  for (const c of registration.containerDefinitions ?? [])
    for (const s of c.secrets ?? []) if (s.name === ADMIN_PASSWORD_VARIABLE) return s.valueFrom;
  return undefined;
}

/**
 * Whether WordPress is installed, by the release machine's own CheckInstalled verdict on
 * `/readyz` through HAProxy: the bootstrap installs nothing, the first release's
 * InstallWordPress step does (as on AWS).
 */
async function installState(siteUrl: string): Promise<'installed' | 'not-installed' | 'unknown'> {
  if (new URL(siteUrl).hostname !== '127.0.0.1')
    throw new BootstrapError(`the site must be on 127.0.0.1, not ${siteUrl}`);
  const verdict = await checkInstalled(
    { siteUrl },
    { attempts: 30, intervalMs: 1000, requestTimeoutMs: 5000 },
  );
  return verdict.state === 'INSTALLED'
    ? 'installed'
    : verdict.state === 'NOT_INSTALLED'
      ? 'not-installed'
      : 'unknown';
}

/** What bootstrapping the service did. */
export interface BootstrapResult {
  readonly outcome: 'already-up' | 'bootstrapped' | 'restarted';
  readonly taskDefinitionArn: string;
  readonly siteUrl: string;
  /** `not-installed` on a fresh database: the first release installs it (InstallWordPress). */
  readonly install: 'installed' | 'not-installed' | 'unknown';
  /** The mode-600 file playing the admin password secret the install uses. */
  readonly adminPasswordFile: string;
}

/** Options for {@link bootstrapService}. */
export interface BootstrapOptions {
  readonly log?: (line: string) => void;
  readonly onBuildLog?: (line: string) => void;
  /** Each phase of the bootstrap image build (Packer step, Ansible task) as it starts and ends. */
  readonly onBuildPhase?: (event: BuildPhaseEvent) => void;
  readonly onServiceEvent?: (event: ServiceEvent) => void;
  /** Tasks the service runs (default 2). */
  readonly desiredCount?: number;
}

async function recordBootstrap(
  ctx: StepContext,
  taskDefinitionArn: string,
  imageUri: string,
): Promise<void> {
  const now = ctx.now();
  const state: ReleaseState = {
    release: {
      releaseId: 'bootstrap',
      trigger: 'manual',
      startedBy: 'stepdeploy local up',
      startedAt: now.toISOString(),
      source: { type: 'local', revision: 'bootstrap' },
      target: { service: ctx.config.service },
    },
    outcome: { status: 'SUCCEEDED', reason: 'bootstrap revision rolled out' },
    artifacts: { image: { uri: imageUri } },
    taskDef: { taskDefinitionArn },
  };
  await ctx.ledger.put(JSON.parse(JSON.stringify(buildLedgerRecord(state, undefined, now))));
}

/**
 * The local equivalent of the first `cdk deploy` of the application: when the service does
 * not exist yet, builds a bootstrap image with the real Packer build, registers task-definition
 * revision 1, starts the service's tasks behind HAProxy and records revision 1 as known-good
 * in the ledger. It installs nothing: like on AWS, the first release's CheckInstalled finds a
 * fresh database and its InstallWordPress one-off task installs it. When the service exists,
 * makes sure its tasks run.
 */
export async function bootstrapService(
  stack: StackParts & { readonly application?: ApplicationTemplate },
  opts: BootstrapOptions = {},
): Promise<BootstrapResult> {
  const log = opts.log ?? (() => {});
  const ctx = createContext(stack, {
    onServiceEvent: opts.onServiceEvent,
    desiredCount: opts.desiredCount,
  });
  const { config } = stack;
  const missingAdminSecret = () =>
    new BootstrapError(
      `the task definition has no ${ADMIN_PASSWORD_VARIABLE} secret: synthesize the current app (its admin password secret) and run \`stepdeploy local down\` and \`up\` again`,
    );
  try {
    const existing = await ctx.service.describe();
    if (existing) {
      const before = (await ctx.service.tasks()).filter((t) => t.lastStatus === 'RUNNING').length;
      const primary = await ctx.service.ensureRunning();
      if (!primary)
        throw new BootstrapError(
          `service ${config.service} has no deployment; run \`stepdeploy local down\` and \`up\` again`,
        );
      if (primary.rolloutState !== 'COMPLETED') {
        log(
          `restarting ${primary.desiredCount} task(s) of ${primary.taskDefinition.split('/').pop()}`,
        );
        await ctx.service.waitForSteady(primary.id);
      }
      const install = await installState(stack.loadBalancer.url);
      const adminPasswordFile = adminPasswordFileOf(
        await ctx.taskDefinitions.describe(primary.taskDefinition),
      );
      if (!adminPasswordFile) throw missingAdminSecret();
      return {
        outcome: before >= primary.desiredCount ? 'already-up' : 'restarted',
        taskDefinitionArn: primary.taskDefinition,
        siteUrl: stack.loadBalancer.url,
        install,
        adminPasswordFile,
      };
    }

    const application =
      stack.application ??
      applicationFromTemplates((await synthesizedTemplates(config.stateDir, log)).templates);
    // Refused before the build when the synthesized definition has no local equivalent.
    const draft = initialTaskDefinition({ ...stack, application }, 'pending-build');
    const adminPasswordFile = adminPasswordFileOf(draft);
    if (!adminPasswordFile) throw missingAdminSecret();
    // The admin password is generated here, as Secrets Manager generates it on AWS.
    await ensureSecretFiles(stack, draft);
    // The template creates the service at 0 tasks (no image before the first release on AWS);
    // the local bootstrap has built one, so it starts the count the releases set.
    const desiredCount =
      opts.desiredCount ?? releaseDesiredCount(await releaseDefinition(config.stateDir, log));
    log('building the bootstrap image (packer build, Ansible role)');
    const built = await buildImage({
      sourceRevision: 'bootstrap',
      registry: stack.registry.url,
      repository: repositoryOf(config.service),
      onLog: opts.onBuildLog,
      onPhase: opts.onBuildPhase,
    });
    log(`pushed ${built.imageUri}`);
    const td = await ctx.taskDefinitions.register(
      initialTaskDefinition({ ...stack, application }, built.imageUri),
    );
    const arn = td.taskDefinitionArn as string;
    log(
      `registered ${arn.split('/').pop()} from the synthesized ${application.taskDefinition.logicalId} (cpu ${td.cpu}, memory ${td.memory}); starting ${desiredCount} task(s) behind HAProxy`,
    );
    const deployment = await ctx.service.update(arn, {
      desiredCount,
      releaseId: 'bootstrap',
    });
    await ctx.service.waitForSteady(deployment.id);
    const install = await installState(stack.loadBalancer.url);
    if (install === 'not-installed')
      log('WordPress is not installed yet: the first release installs it (InstallWordPress)');
    await recordBootstrap(ctx, arn, built.imageUri);
    // Reading it back proves the file is private before anyone relies on it.
    await readSecret(adminPasswordFile);
    return {
      outcome: 'bootstrapped',
      taskDefinitionArn: arn,
      siteUrl: stack.loadBalancer.url,
      install,
      adminPasswordFile,
    };
  } finally {
    ctx.service.stop();
    await ctx.service.idle();
  }
}
