/**
 * Local adapters for the verify-restore machine: the same ASL (from the synthesized template) run
 * by local/runner.ts, with each Task state bound here by name. RDS restore = a scratch MariaDB
 * container from a local snapshot (local/database.ts); VerifyData = the same verifyData() against
 * it; the application check boots the service's current task definition (its image, its
 * environment, its secrets) on 127.0.0.1 against the scratch database; Cleanup removes the
 * scratch container and the app container on every path.
 */

import { randomUUID } from 'node:crypto';
import { appendFile, chmod, chown, copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { TaskDefinition } from '@aws-sdk/client-ecs';
import { NamedError } from '#commons/errors.ts';
import { defineStep } from '#commons/step.ts';
import { verificationTaskDefinition } from '#commons/task-definition.ts';
import type { SnapshotManifest, TableStat } from '#commons/verify-data-checks.ts';
import { connectDatabase } from '#commons/verify-data-sql.ts';
import { NoSnapshotError } from '#commons/verify-errors.ts';
import { scratchExpiry, scratchInstanceId } from '#commons/verify-scratch.ts';
import { buildMetrics } from '#functions/publish-metrics/publish-metrics.ts';
import { publishMetricsSchema } from '#functions/publish-metrics/schema.ts';
import { registerVerificationTaskDefinitionSchema } from '#functions/register-verification-task-definition/schema.ts';
import {
  type ApplicationProbe,
  httpGet,
  judgeApplication,
  probeApplication,
} from '#functions/verify-application/verify-application.ts';
import { verifyData } from '#functions/verify-data/verify-data.ts';
import {
  type DatabaseHandle,
  databaseEndpoint,
  describeSnapshot,
  removeDatabase,
  restoreSnapshot,
  type SnapshotMetadata,
} from '#local/database.ts';
import {
  containerLogs,
  inspectContainer,
  removeContainer,
  roleLabels,
  runContainer,
} from '#local/docker.ts';
import { type StepHandler, toJson } from '#local/runner.ts';
import { notificationsPath } from '#local/steps/context.ts';
import { localStep } from '#local/steps/local-step.ts';
import { describeService, TaskDefinitionStore } from '#local/task-definitions.ts';
import { CONTAINER_NAME, imageUser } from '#local/tasks.ts';

/** Label roles of the containers a verification run creates (`stepdeploy.role`). */
export const SCRATCH_ROLE = 'scratch-database';
export const VERIFY_APP_ROLE = 'verify-app';
/** Label carrying the verification run (execution name) on the app container. */
export const LABEL_VERIFY_RUN = 'stepdeploy.verify-run';

/** What the local verification needs. */
export interface LocalVerifyOptions {
  /** `$STEPDEPLOY_HOME`: holds snapshots/, secrets/, task-definitions/, tables/. */
  readonly stateDir: string;
  /** The local service whose current task definition is booted on the restored data. */
  readonly service: string;
  /** Port of the scratch MariaDB on 127.0.0.1. */
  readonly scratchPort: number;
  /** Port of the one-off WordPress container on 127.0.0.1. */
  readonly appPort: number;
  /** The live database (only for snapshots without a manifest). */
  readonly live?: DatabaseHandle;
  readonly tablePrefix?: string;
  readonly rowCountTolerance?: number;
  /** One-line progress notes (never secrets). */
  readonly note?: (line: string) => void;
  /** Receives the failure notification text besides notifications.log. */
  readonly notify?: (message: string) => void;
  readonly now?: () => Date;
}

/** The handlers plus a safety net that removes whatever a broken run left behind. */
export interface VerifyRestoreAdapters {
  readonly handlers: Record<string, StepHandler>;
  /**
   * Removes the scratch database and the app container if they still exist (the ASL's Cleanup
   * normally did it already); returns the names it had to remove.
   */
  readonly cleanup: () => Promise<string[]>;
}

/** The local snapshot metadata as the manifest the Lambdas write (tables; the schema when recorded). Pure. */
export function manifestFromMetadata(meta: SnapshotMetadata): SnapshotManifest {
  const tables: Record<string, TableStat> = {};
  for (const t of meta.tables) tables[t.table] = { rows: t.rows, checksum: t.checksum };
  return {
    snapshotId: meta.id,
    createdAt: meta.createdAt,
    ...(meta.checksumMethod ? { checksumMethod: meta.checksumMethod } : {}),
    tables,
    ...(meta.schema ? { schema: meta.schema } : {}),
  };
}

/** The newest complete local snapshot, or undefined. */
export async function latestSnapshot(stateDir: string): Promise<SnapshotMetadata | undefined> {
  let ids: string[] = [];
  try {
    ids = await readdir(join(stateDir, 'snapshots'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const metas = (
    await Promise.all(ids.map((id) => describeSnapshot(stateDir, id).catch(() => undefined)))
  )
    .filter((m): m is SnapshotMetadata => m !== undefined)
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
  return metas[0];
}

/**
 * The one-off task's configuration: the task definition's environment with the run's container
 * overrides applied, and its secret references, with the database password pointed at the
 * scratch copy's own (locally the restore makes a fresh application user; on RDS the restored
 * instance keeps the live credentials). Pure.
 */
export function verificationTaskConfig(
  td: TaskDefinition,
  overrides: readonly {
    Name?: string;
    Environment?: readonly { Name?: string; Value?: string }[];
  }[],
  scratch: Pick<DatabaseHandle, 'host' | 'port' | 'database' | 'user' | 'passwordFile'>,
): { image: string; env: Record<string, string>; secretFiles: Record<string, string> } {
  const container =
    td.containerDefinitions?.find((c) => c.name === CONTAINER_NAME) ?? td.containerDefinitions?.[0];
  if (!container?.image)
    throw new Error(`task definition ${td.taskDefinitionArn} has no ${CONTAINER_NAME} image`);
  const env: Record<string, string> = {};
  for (const e of container.environment ?? []) if (e.name) env[e.name] = e.value ?? '';
  for (const o of overrides.filter((o) => o.Name === container.name))
    for (const e of o.Environment ?? []) if (e.Name) env[e.Name] = e.Value ?? '';
  env.WORDPRESS_DB_NAME = scratch.database;
  env.WORDPRESS_DB_USER = scratch.user;
  const secretFiles: Record<string, string> = {};
  for (const s of container.secrets ?? [])
    if (s.name && s.valueFrom) secretFiles[s.name] = s.valueFrom;
  secretFiles.WORDPRESS_DB_PASSWORD = scratch.passwordFile;
  return { image: container.image, env, secretFiles };
}

/** The Host header the probe sends: the site's own, as the Lambda's SITE_HOST. Pure. */
export function siteHost(env: Readonly<Record<string, string>>, fallback: string): string {
  try {
    return env.WORDPRESS_SITE_URL ? new URL(env.WORDPRESS_SITE_URL).host : fallback;
  } catch {
    return fallback;
  }
}

// Mirrors local/database.ts naming (container stepdeploy-<name>, secrets/<name>-password) so a
// scratch whose restore failed half-way can still be removed.
function scratchHandle(opts: LocalVerifyOptions, name: string, database = 'wordpress') {
  const secrets = join(opts.stateDir, 'secrets');
  return {
    name,
    container: `stepdeploy-${name}`,
    host: '127.0.0.1',
    port: opts.scratchPort,
    database,
    user: 'wordpress',
    passwordFile: join(secrets, `${name}-password`),
    rootPasswordFile: join(secrets, `${name}-root-password`),
    stateDir: opts.stateDir,
    volume: `stepdeploy-${name}-data`,
  } satisfies DatabaseHandle;
}

/** An AWS integration error as Step Functions names it (`Rds.<Exception>`, `Ecs.<Exception>`). */
function awsLike(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** The dump did not load into the scratch database; the message carries the server's error. */
export class ScratchRestoreError extends NamedError {
  override readonly name = 'ScratchRestoreError';
}

/**
 * A dump that fails half-way stops the scratch container (scratch databases never restart), so
 * the restore fails: name it with the server's first ERROR line, which says what did not load.
 */
async function scratchRestoreError(
  cause: unknown,
  container: string,
  snapshotId: string,
): Promise<Error> {
  if (!(cause instanceof Error) || cause.name !== 'DatabaseError') return cause as Error;
  const logs = await containerLogs(container, 500).catch(() => '');
  const serverError = logs
    .split('\n')
    .map((l) => l.trim())
    .find((l) => /^ERROR \d+/.test(l));
  return new ScratchRestoreError(
    `snapshot ${snapshotId} did not load into ${container}: ${serverError ?? cause.message}`,
  );
}

/**
 * Task-state handlers for runLocal(definition, input, { handlers }), named as in
 * statemachine/verify-restore.asl.json. Shapes follow the AWS responses the ASL reads.
 */
export function verifyRestoreAdapters(opts: LocalVerifyOptions): VerifyRestoreAdapters {
  const note = opts.note ?? (() => {});
  const now = opts.now ?? (() => new Date());
  let scratch: DatabaseHandle | undefined;
  let snapshot: SnapshotMetadata | undefined;
  let app: { container: string; secretsDir: string; host: string } | undefined;

  const removeApp = async (): Promise<string | undefined> => {
    if (!app) return undefined;
    const { container, secretsDir } = app;
    const existed = (await inspectContainer(container)) !== undefined;
    await removeContainer(container);
    await rm(secretsDir, { recursive: true, force: true });
    app = undefined;
    return existed ? container : undefined;
  };
  const removeScratch = async (id?: string): Promise<string | undefined> => {
    const handle = scratch ?? (id ? scratchHandle(opts, id) : undefined);
    if (!handle) return undefined;
    const existed = (await inspectContainer(handle.container)) !== undefined;
    await removeDatabase(handle);
    scratch = undefined;
    return existed ? handle.container : undefined;
  };

  const handlers: Record<string, StepHandler> = {
    PickSnapshot: async (input) => {
      const { runId, request } = input as { runId: string; request: { snapshotId?: string } };
      snapshot = request.snapshotId
        ? await describeSnapshot(opts.stateDir, request.snapshotId)
        : await latestSnapshot(opts.stateDir);
      if (!snapshot) {
        throw new NoSnapshotError(
          request.snapshotId
            ? `snapshot ${request.snapshotId} does not exist in ${join(opts.stateDir, 'snapshots')}`
            : `no local snapshot in ${join(opts.stateDir, 'snapshots')}: every release takes one (stepdeploy local release)`,
        );
      }
      const at = now();
      return {
        snapshotId: snapshot.id,
        snapshotArn: `arn:local:rds:snapshot:${snapshot.id}`,
        snapshotCreateTime: snapshot.createdAt,
        source: request.snapshotId ? 'given' : 'latest-automated',
        pickedAt: at.toISOString(),
        scratch: {
          // Short enough for local container names: stepdeploy-<service>-scratch-<hash>.
          instanceId: scratchInstanceId(opts.service.slice(0, 20), runId),
          expiresAt: scratchExpiry(at, 60),
        },
      };
    },
    RestoreScratchInstance: async (input) => {
      const p = input as { DbInstanceIdentifier: string; DbSnapshotIdentifier: string };
      // Known before the restore starts, so Cleanup can remove a half-made scratch.
      scratch = scratchHandle(opts, p.DbInstanceIdentifier, snapshot?.source.database);
      note(
        `restoring ${p.DbSnapshotIdentifier} into ${scratch.container} on 127.0.0.1:${opts.scratchPort}`,
      );
      const container = scratch.container;
      scratch = await restoreSnapshot(p.DbSnapshotIdentifier, {
        name: p.DbInstanceIdentifier,
        port: opts.scratchPort,
        stateDir: opts.stateDir,
        service: opts.service,
      }).catch(async (error: unknown) => {
        throw await scratchRestoreError(error, container, p.DbSnapshotIdentifier);
      });
      return {
        DbInstance: { DbInstanceIdentifier: p.DbInstanceIdentifier, DbInstanceStatus: 'creating' },
      };
    },
    // restoreSnapshot resolves once the server accepts the application user: available.
    DescribeScratchInstance: async (input) => {
      const id = (input as { DbInstanceIdentifier: string }).DbInstanceIdentifier;
      if (!scratch || scratch.name !== id)
        throw awsLike('Rds.DbInstanceNotFoundException', `DBInstance ${id} not found.`);
      const running = (await inspectContainer(scratch.container))?.State.Running ?? false;
      return {
        DbInstances: [
          {
            DbInstanceIdentifier: id,
            DbInstanceStatus: running ? 'available' : 'failed',
            Endpoint: { Address: scratch.host, Port: scratch.port },
          },
        ],
      };
    },
    VerifyData: async (input) => {
      const { snapshotId } = input as { snapshotId: string };
      const restored = scratch;
      if (!restored) throw new Error('VerifyData ran without a restored scratch database');
      const verdict = await verifyData(
        snapshotId,
        {
          tablePrefix: opts.tablePrefix ?? 'wp_',
          rowCountTolerance: opts.rowCountTolerance ?? 0.1,
        },
        {
          openScratch: async () => connectDatabase(await databaseEndpoint(restored)),
          openLive: async () => {
            if (!opts.live) throw new Error('no manifest and no live database to compare with');
            return connectDatabase(await databaseEndpoint(opts.live));
          },
          loadManifest: async (id) =>
            snapshot?.id === id && snapshot.tables.length > 0
              ? manifestFromMetadata(snapshot)
              : undefined,
        },
      );
      note(`data verified against the ${verdict.mode}: ${verdict.checkedTables.length} tables`);
      return toJson(verdict);
    },
    // ecs:describeServices: the revision the service runs now.
    FindApplicationTaskDefinition: async () => {
      const service = await describeService(opts.stateDir, opts.service);
      if (!service)
        throw awsLike(
          'Ecs.ServiceNotFoundException',
          `service ${opts.service} does not exist (stepdeploy local up creates it)`,
        );
      return { Services: [{ ServiceName: opts.service, TaskDefinition: service.taskDefinition }] };
    },
    // RegisterVerificationTaskDefinition: the verification's own revision of the current one
    // (the shared pure function: no persistent volumes, the scratch site URL).
    RegisterVerificationTaskDefinition: localStep(
      defineStep(registerVerificationTaskDefinitionSchema, async (event) => {
        const store = new TaskDefinitionStore(opts.stateDir);
        const current = await store.describe(event.taskDefinitionArn);
        const registered = await store.register(
          verificationTaskDefinition(
            { taskDefinition: current },
            event.containerName,
            event.siteUrl,
          ),
        );
        note(`verification revision ${registered.taskDefinitionArn?.split('/').pop()}`);
        return {
          taskDefinitionArn: registered.taskDefinitionArn as string,
          sourceTaskDefinitionArn: event.taskDefinitionArn,
        };
      }),
    ),
    // ecs:runTask: one container of that revision, its database pointed at the scratch copy.
    RunVerificationTask: async (input) => {
      const p = input as {
        TaskDefinition: string;
        Overrides?: {
          ContainerOverrides?: {
            Name?: string;
            Environment?: { Name?: string; Value?: string }[];
          }[];
        };
      };
      const restored = scratch;
      if (!restored) throw new Error('RunVerificationTask ran without a restored scratch database');
      const td = await new TaskDefinitionStore(opts.stateDir).describe(p.TaskDefinition);
      const config = verificationTaskConfig(td, p.Overrides?.ContainerOverrides ?? [], restored);
      const container = `stepdeploy-${restored.name}-app`;
      const secretsDir = join(opts.stateDir, 'verify', container);
      app = { container, secretsDir, host: siteHost(config.env, `127.0.0.1:${opts.appPort}`) };
      try {
        // Copies owned by the image's user (mode 400): the originals stay root-only at mode 600.
        await mkdir(secretsDir, { recursive: true, mode: 0o700 });
        const owner = await imageUser(config.image);
        const mounts: string[] = [];
        const secretEnv: Record<string, string> = {};
        for (const [name, path] of Object.entries(config.secretFiles)) {
          const copy = join(secretsDir, name.toLowerCase());
          await copyFile(path, copy);
          await chmod(copy, 0o400);
          if (process.getuid?.() === 0) await chown(copy, owner.uid, owner.gid);
          mounts.push(`${copy}:/run/secrets/${name.toLowerCase()}:ro`);
          secretEnv[`${name}_FILE`] = `/run/secrets/${name.toLowerCase()}`;
        }
        if (process.getuid?.() === 0) await chown(secretsDir, owner.uid, owner.gid);
        await runContainer({
          name: container,
          image: config.image,
          labels: {
            ...roleLabels(opts.service, VERIFY_APP_ROLE),
            [LABEL_VERIFY_RUN]: restored.name,
          },
          env: {
            ...config.env,
            ...secretEnv,
            BIND_ADDRESS: '127.0.0.1',
            PORT: String(opts.appPort),
          },
          mounts,
          // Uploads on a tmpfs: the check must not write into the live site's uploads volume.
          tmpfs: [
            '/tmp',
            '/run:exec',
            `/var/lib/wordpress/wp-content/uploads:uid=${owner.uid},gid=${owner.gid}`,
          ],
          readOnly: true,
          stopTimeoutSeconds: 5,
        });
      } catch (error) {
        // ECS reports a task it could not place or pull as a failure, not as an API error.
        const reason = error instanceof Error ? error.message : String(error);
        return {
          Tasks: [],
          Failures: [
            { Arn: p.TaskDefinition, Reason: `CannotStartContainerError: ${reason.slice(0, 500)}` },
          ],
        };
      }
      note(
        `booting ${config.image.split('/').pop()} (${p.TaskDefinition.split('/').pop()}) on 127.0.0.1:${opts.appPort}`,
      );
      return {
        Tasks: [{ TaskArn: `arn:local:ecs:task/verify/${container}`, LastStatus: 'PROVISIONING' }],
        Failures: [],
      };
    },
    VerifyApplication: async () => {
      if (!app) throw new Error('VerifyApplication ran without a verification task');
      const c = await inspectContainer(app.container);
      const lastStatus = !c
        ? 'STOPPED'
        : c.State.Running
          ? 'RUNNING'
          : c.State.Status === 'created' && !c.State.Error
            ? 'PENDING'
            : 'STOPPED';
      const logs =
        lastStatus === 'STOPPED' && c
          ? (await containerLogs(app.container, 3).catch(() => '')).trim().replace(/\s+/g, ' ')
          : '';
      const task: ApplicationProbe['task'] = {
        lastStatus,
        stoppedReason: c
          ? `Essential container in task exited (exit code ${c.State.ExitCode}${c.State.Error ? `: ${c.State.Error}` : ''})`
          : 'container is gone',
        containers: [
          {
            name: CONTAINER_NAME,
            ...(c ? { exitCode: c.State.ExitCode } : {}),
            ...(logs ? { reason: logs.slice(0, 300) } : {}),
          },
        ],
      };
      const host = app.host;
      const verdict = judgeApplication(
        await probeApplication(task, (path) => httpGet('127.0.0.1', opts.appPort, path, host)),
      );
      if (verdict.state === 'PASSED') note(`application verified: ${verdict.detail}`);
      return verdict;
    },
    StopVerificationTask: async () => {
      await removeApp();
      return {};
    },
    DeleteScratchInstance: async (input) => {
      const id = (input as { DbInstanceIdentifier: string }).DbInstanceIdentifier;
      const removed = await removeScratch(id);
      if (removed) note(`removed ${removed}`);
      return {};
    },
    // The local "CloudWatch": the same data points, one JSON line each in metrics.log.
    PublishMetrics: localStep(
      defineStep(publishMetricsSchema, async (parsed) => {
        const { data, summary } = buildMetrics(parsed, {
          DatabaseInstance: `stepdeploy-${opts.service}-db`,
        });
        const path = join(opts.stateDir, 'metrics.log');
        await mkdir(dirname(path), { recursive: true, mode: 0o700 });
        await appendFile(
          path,
          `${JSON.stringify({ at: now().toISOString(), namespace: 'stepdeploy/verify-restore', data })}\n`,
          { mode: 0o600 },
        );
        return summary;
      }),
    ),
    // The local "SNS topic", as the release machine's Notify: notifications.log.
    NotifyFailure: async (input) => {
      const { Subject, Message } = input as { Subject?: string; Message: string };
      const messageId = randomUUID();
      const path = notificationsPath(opts.stateDir);
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await appendFile(
        path,
        `${JSON.stringify({ at: now().toISOString(), messageId, subject: Subject, message: Message })}\n`,
        { mode: 0o600 },
      );
      opts.notify?.(Message);
      return { MessageId: messageId };
    },
  };

  return {
    handlers,
    cleanup: async () => {
      const removed: string[] = [];
      for (const remove of [removeApp, () => removeScratch()]) {
        const name = await remove();
        if (name) removed.push(name);
      }
      return removed;
    },
  };
}
