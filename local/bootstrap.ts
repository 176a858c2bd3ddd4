import { join } from 'node:path';
import type { RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import { buildLedgerRecord, type ReleaseState } from '#commons/ledger.ts';
import { buildImage } from './packer.ts';
import { ensureSecret, readSecret } from './secrets.ts';
import { repositoryOf } from './steps/build-image.ts';
import { createContext, familyOf, type StackParts, type StepContext } from './steps/context.ts';
import type { ServiceEvent } from './steps/service.ts';
import { CONTAINER_NAME } from './tasks.ts';

/** WordPress's eight keys and salts, passed as secrets (same names as the official image). */
export const SALT_NAMES = [
  'WORDPRESS_AUTH_KEY',
  'WORDPRESS_SECURE_AUTH_KEY',
  'WORDPRESS_LOGGED_IN_KEY',
  'WORDPRESS_NONCE_KEY',
  'WORDPRESS_AUTH_SALT',
  'WORDPRESS_SECURE_AUTH_SALT',
  'WORDPRESS_LOGGED_IN_SALT',
  'WORDPRESS_NONCE_SALT',
] as const;

/** The site could not be set up; the message says which part. */
export class BootstrapError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'BootstrapError';
  }
}

/** Mode-600 files holding the site's own secrets (the database's are the database's). */
export function siteSecretPaths(stateDir: string, service: string) {
  const dir = join(stateDir, 'secrets');
  return {
    adminPassword: join(dir, `${service}-admin-password`),
    salt: (name: string) => join(dir, `${service}-${name.toLowerCase().replace(/_/g, '-')}`),
  };
}

/**
 * Revision 1 of the local task definition: the WordPress container configured by environment
 * (database address and name, site URL) with every secret as a reference to a mode-600 file
 * (the local Secrets Manager), never as a value. Pure.
 */
export function initialTaskDefinition(
  stack: Pick<StackParts, 'config' | 'database' | 'loadBalancer'>,
  image: string,
): RegisterTaskDefinitionCommandInput {
  const { config, database } = stack;
  const secrets = siteSecretPaths(config.stateDir, config.service);
  return {
    family: familyOf(config.service),
    networkMode: 'host',
    requiresCompatibilities: ['EC2'],
    cpu: '256',
    memory: '512',
    containerDefinitions: [
      {
        name: CONTAINER_NAME,
        image,
        essential: true,
        environment: [
          { name: 'WORDPRESS_DB_HOST', value: `127.0.0.1:${database.port}` },
          { name: 'WORDPRESS_DB_NAME', value: database.database },
          { name: 'WORDPRESS_DB_USER', value: database.user },
          { name: 'WORDPRESS_SITE_URL', value: stack.loadBalancer.url },
        ],
        secrets: [
          { name: 'WORDPRESS_DB_PASSWORD', valueFrom: database.passwordFile },
          ...SALT_NAMES.map((name) => ({ name, valueFrom: secrets.salt(name) })),
        ],
      },
    ],
  };
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
  stack: StackParts,
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

    for (const name of SALT_NAMES) await ensureSecret(secrets.salt(name));
    log('building the bootstrap image (packer build, Ansible role)');
    const built = await buildImage({
      sourceRevision: 'bootstrap',
      registry: stack.registry.url,
      repository: repositoryOf(config.service),
      onLog: opts.onBuildLog,
    });
    log(`pushed ${built.imageUri}`);
    const td = await ctx.taskDefinitions.register(initialTaskDefinition(stack, built.imageUri));
    const arn = td.taskDefinitionArn as string;
    log(
      `registered ${arn.split('/').pop()}; starting ${opts.desiredCount ?? 2} task(s) behind HAProxy`,
    );
    const deployment = await ctx.service.update(arn, {
      desiredCount: opts.desiredCount ?? 2,
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
