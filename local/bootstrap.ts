import { join } from 'node:path';
import type { RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import { buildLedgerRecord, type ReleaseState } from '#commons/ledger.ts';
import {
  type ApplicationTemplate,
  applicationFromTemplates,
  type TemplateSecret,
  taskDefinitionRegistration,
} from './application.ts';
import { buildImage } from './packer.ts';
import { releaseDefinition, releaseDesiredCount, synthesizedTemplates } from './release.ts';
import { ensureSecret, readSecret, writeSecret } from './secrets.ts';
import { repositoryOf } from './steps/build-image.ts';
import { createContext, familyOf, type StackParts, type StepContext } from './steps/context.ts';
import type { ServiceEvent } from './steps/service.ts';
import { CONTAINER_NAME } from './tasks.ts';

/** The site could not be set up; the message says which part. */
export class BootstrapError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'BootstrapError';
  }
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
    adminPassword: join(dir, `${service}-admin-password`),
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

/** The form WordPress's installer posts at step 2, URL-encoded. Pure. */
export function installForm(adminPassword: string, title = 'stepdeploy (local)'): string {
  return new URLSearchParams({
    weblog_title: title,
    user_name: 'admin',
    admin_password: adminPassword,
    admin_password2: adminPassword,
    pw_weak: '1',
    admin_email: 'admin@example.com',
    blog_public: '0',
    Submit: 'Install WordPress',
    language: '',
  }).toString();
}

async function readyz(siteUrl: string): Promise<{ status: number; body: string }> {
  try {
    const res = await fetch(new URL('/readyz', siteUrl), { signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: (await res.text()).trim() };
  } catch (error) {
    return { status: 0, body: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Completes the WordPress install through WordPress's own HTTP installer (through HAProxy on
 * 127.0.0.1), with an admin password generated into a mode-600 file and never printed.
 * Idempotent: an installed site (`/readyz` 200) is left alone.
 */
export async function installWordPress(
  siteUrl: string,
  adminPasswordFile: string,
  log: (line: string) => void = () => {},
): Promise<'installed' | 'already-installed'> {
  if (new URL(siteUrl).hostname !== '127.0.0.1')
    throw new BootstrapError(`the site must be on 127.0.0.1, not ${siteUrl}`);
  let state = await readyz(siteUrl);
  for (let i = 0; i < 60 && state.status !== 200 && state.body !== 'not-installed'; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    state = await readyz(siteUrl);
  }
  if (state.status === 200) return 'already-installed';
  if (state.body !== 'not-installed')
    throw new BootstrapError(
      `WordPress is not ready to install: /readyz answered ${state.status} ${state.body}`,
    );
  const password = await ensureSecret(adminPasswordFile);
  log('completing the WordPress install (admin password in the secrets dir, mode 600)');
  const res = await fetch(new URL('/wp-admin/install.php?step=2', siteUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: installForm(password),
    redirect: 'manual',
    signal: AbortSignal.timeout(60_000),
  });
  const body = await res.text();
  const after = await readyz(siteUrl);
  if (after.status !== 200) {
    const message = /<p[^>]*class="message"[^>]*>([\s\S]*?)<\/p>/
      .exec(body)?.[1]
      ?.replace(/<[^>]+>/g, '')
      .trim();
    throw new BootstrapError(
      `the WordPress installer answered ${res.status}${message ? ` (${message})` : ''} and /readyz still says ${after.status} ${after.body}`,
    );
  }
  return 'installed';
}

/** What bootstrapping the service did. */
export interface BootstrapResult {
  readonly outcome: 'already-up' | 'bootstrapped' | 'restarted';
  readonly taskDefinitionArn: string;
  readonly siteUrl: string;
  readonly install: 'installed' | 'already-installed';
  readonly adminPasswordFile: string;
}

/** Options for {@link bootstrapService}. */
export interface BootstrapOptions {
  readonly log?: (line: string) => void;
  readonly onBuildLog?: (line: string) => void;
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
    outcome: { status: 'SUCCEEDED', reason: 'bootstrap revision rolled out and installed' },
    artifacts: { image: { uri: imageUri } },
    taskDef: { taskDefinitionArn },
  };
  await ctx.ledger.put(JSON.parse(JSON.stringify(buildLedgerRecord(state, undefined, now))));
}

/**
 * The local equivalent of the first `cdk deploy` of the application: when the service does
 * not exist yet, builds a bootstrap image with the real Packer build, registers task-definition
 * revision 1, starts the service's tasks behind HAProxy, completes the WordPress install and
 * records revision 1 as known-good in the ledger. When it exists, makes sure its tasks run.
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
  const secrets = siteSecretPaths(config.stateDir, config.service);
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
      const install = await installWordPress(stack.loadBalancer.url, secrets.adminPassword, log);
      return {
        outcome:
          before >= primary.desiredCount && install === 'already-installed'
            ? 'already-up'
            : 'restarted',
        taskDefinitionArn: primary.taskDefinition,
        siteUrl: stack.loadBalancer.url,
        install,
        adminPasswordFile: secrets.adminPassword,
      };
    }

    const application =
      stack.application ??
      applicationFromTemplates((await synthesizedTemplates(config.stateDir, log)).templates);
    // Refused before the build when the synthesized definition has no local equivalent.
    const draft = initialTaskDefinition({ ...stack, application }, 'pending-build');
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
    const install = await installWordPress(stack.loadBalancer.url, secrets.adminPassword, log);
    await recordBootstrap(ctx, arn, built.imageUri);
    // Reading it back proves the file is private before anyone relies on it.
    await readSecret(secrets.adminPassword);
    return {
      outcome: 'bootstrapped',
      taskDefinitionArn: arn,
      siteUrl: stack.loadBalancer.url,
      install,
      adminPasswordFile: secrets.adminPassword,
    };
  } finally {
    ctx.service.stop();
    await ctx.service.idle();
  }
}
