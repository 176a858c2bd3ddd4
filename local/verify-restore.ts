/**
 * Local adapters for the verify-restore machine: the same ASL (from the synthesized template) run
 * by local/runner.ts, with each Task state bound here by name. RDS restore = a scratch MariaDB
 * container from a local snapshot (local/database.ts); VerifyData = the same verifyData() against
 * it; the application check boots the WordPress image on 127.0.0.1 against the scratch database;
 * Cleanup removes the scratch container (and the app container) on every path.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { SnapshotManifest, TableStat } from '#commons/verify-data-checks.ts';
import { connectDatabase, type DatabaseEndpoint } from '#commons/verify-data-sql.ts';
import { NoSnapshotError } from '#commons/verify-errors.ts';
import { scratchExpiry, scratchInstanceId } from '#commons/verify-scratch.ts';
import {
  type ApplicationProbe,
  httpGet,
  judgeApplication,
} from '#functions/verify-application/verify-application.ts';
import { verifyData } from '#functions/verify-data/verify-data.ts';
import {
  type DatabaseHandle,
  describeSnapshot,
  removeDatabase,
  restoreSnapshot,
  type SnapshotMetadata,
} from '#local/database.ts';
import { docker, isNotFound } from '#local/docker.ts';
import type { Json, StepHandler } from '#local/runner.ts';
import { readSecret } from '#local/secrets.ts';

/** What the local verification needs. */
export interface LocalVerifyOptions {
  /** `$STEPDEPLOY_HOME`: holds snapshots/ and secrets/. */
  readonly stateDir: string;
  /** Port of the scratch MariaDB on 127.0.0.1. */
  readonly scratchPort: number;
  /** The live database (for snapshots without a manifest). */
  readonly live?: DatabaseHandle;
  /** WordPress image to boot on the restored data; omitted = data checks only. */
  readonly appImage?: string;
  /** Port of the one-off WordPress container on 127.0.0.1. */
  readonly appPort?: number;
  readonly tablePrefix?: string;
  readonly rowCountTolerance?: number;
  /** Receives the failure notification text (default: stderr). */
  readonly notify?: (message: string) => void;
  /** Receives the metrics (default: ignored). */
  readonly onMetrics?: (metrics: Json) => void;
}

/** The local snapshot metadata's table list as a VerifyData manifest. */
export function manifestFromMetadata(meta: SnapshotMetadata): SnapshotManifest {
  const tables: Record<string, TableStat> = {};
  for (const t of meta.tables) tables[t.table] = { rows: t.rows, checksum: t.checksum };
  return { snapshotId: meta.id, createdAt: meta.createdAt, tables };
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

// Mirrors local/database.ts naming (container stepdeploy-<name>, secrets/<name>-password) so a
// scratch whose restore failed half-way can still be removed.
function scratchHandle(opts: LocalVerifyOptions, name: string): DatabaseHandle {
  const secrets = join(opts.stateDir, 'secrets');
  return {
    name,
    container: `stepdeploy-${name}`,
    host: '127.0.0.1',
    port: opts.scratchPort,
    database: 'wordpress',
    user: 'wordpress',
    passwordFile: join(secrets, `${name}-password`),
    rootPasswordFile: join(secrets, `${name}-root-password`),
    stateDir: opts.stateDir,
    volume: `stepdeploy-${name}-data`,
  };
}

async function endpointOf(handle: DatabaseHandle): Promise<DatabaseEndpoint> {
  return {
    host: handle.host,
    port: handle.port,
    user: handle.user,
    password: await readSecret(handle.passwordFile),
    database: handle.database,
  };
}

function awsLike(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/**
 * Task-state handlers for runLocal(definition, input, { handlers }), named as in
 * statemachine/verify-restore.asl.json. Shapes follow the AWS responses the ASL reads.
 */
export function verifyRestoreHandlers(opts: LocalVerifyOptions): Record<string, StepHandler> {
  const appPort = opts.appPort ?? 18_900;
  let scratch: DatabaseHandle | undefined;
  let snapshot: SnapshotMetadata | undefined;
  let appContainer: string | undefined;

  return {
    PickSnapshot: async (input) => {
      const { runId, request } = input as { runId: string; request: { snapshotId?: string } };
      snapshot = request.snapshotId
        ? await describeSnapshot(opts.stateDir, request.snapshotId)
        : await latestSnapshot(opts.stateDir);
      if (!snapshot) {
        throw new NoSnapshotError(
          request.snapshotId
            ? `snapshot ${request.snapshotId} does not exist in ${opts.stateDir}`
            : `no local snapshot in ${opts.stateDir}`,
        );
      }
      const now = new Date();
      return {
        snapshotId: snapshot.id,
        snapshotArn: `local:snapshot:${snapshot.id}`,
        snapshotCreateTime: snapshot.createdAt,
        source: request.snapshotId ? 'given' : 'latest-automated',
        pickedAt: now.toISOString(),
        scratch: {
          instanceId: scratchInstanceId('local', runId),
          expiresAt: scratchExpiry(now, 60),
        },
      };
    },
    RestoreScratchInstance: async (input) => {
      const p = input as { DbInstanceIdentifier: string; DbSnapshotIdentifier: string };
      scratch = scratchHandle(opts, p.DbInstanceIdentifier);
      scratch = await restoreSnapshot(p.DbSnapshotIdentifier, {
        name: p.DbInstanceIdentifier,
        port: opts.scratchPort,
        stateDir: opts.stateDir,
        service: 'verify-restore',
      });
      return {
        DbInstance: { DbInstanceIdentifier: p.DbInstanceIdentifier, DbInstanceStatus: 'creating' },
      };
    },
    // restoreSnapshot resolves once the server accepts the application user: available.
    DescribeScratchInstance: async (input) => {
      const id = (input as { DbInstanceIdentifier: string }).DbInstanceIdentifier;
      if (!scratch || scratch.name !== id) throw awsLike('Rds.DbInstanceNotFoundException', id);
      return {
        DbInstances: [
          {
            DbInstanceIdentifier: id,
            DbInstanceStatus: 'available',
            Endpoint: { Address: scratch.host, Port: scratch.port },
          },
        ],
      };
    },
    VerifyData: async (input) => {
      const { snapshotId } = input as { snapshotId: string };
      const restored = scratch as DatabaseHandle;
      const verdict = await verifyData(
        snapshotId,
        {
          tablePrefix: opts.tablePrefix ?? 'wp_',
          rowCountTolerance: opts.rowCountTolerance ?? 0.1,
        },
        {
          openScratch: async () => connectDatabase(await endpointOf(restored)),
          openLive: async () => {
            if (!opts.live) throw new Error('no manifest and no live database to compare with');
            return connectDatabase(await endpointOf(opts.live));
          },
          loadManifest: async (id) =>
            snapshot?.id === id && snapshot.tables.length > 0
              ? manifestFromMetadata(snapshot)
              : undefined,
        },
      );
      return {
        ...verdict,
        checkedTables: [...verdict.checkedTables],
        failures: [],
      } as unknown as Json;
    },
    FindApplicationTaskDefinition: () => ({
      Services: [{ TaskDefinition: opts.appImage ?? 'none' }],
    }),
    RunVerificationTask: async () => {
      if (!opts.appImage || !scratch)
        return { Tasks: [], Failures: [{ Reason: 'no WordPress image configured' }] };
      appContainer = `stepdeploy-verify-app-${scratch.name}`;
      await docker([
        'run',
        '-d',
        '--name',
        appContainer,
        '--network',
        'host',
        '--read-only',
        '--tmpfs',
        '/tmp',
        '--tmpfs',
        '/run',
        '--label',
        'stepdeploy.managed=true',
        '--label',
        'stepdeploy.role=verify-app',
        '-e',
        `PORT=${appPort}`,
        '-e',
        'BIND_ADDRESS=127.0.0.1',
        '-e',
        `WORDPRESS_DB_HOST=${scratch.host}:${scratch.port}`,
        '-e',
        `WORDPRESS_DB_NAME=${scratch.database}`,
        '-e',
        `WORDPRESS_DB_USER=${scratch.user}`,
        '-e',
        'WORDPRESS_DB_PASSWORD_FILE=/run/secrets/db-password',
        '-v',
        `${scratch.passwordFile}:/run/secrets/db-password:ro`,
        '-e',
        `WORDPRESS_SITE_URL=http://127.0.0.1:${appPort}`,
        opts.appImage,
      ]);
      return { Tasks: [{ TaskArn: `local:task/${appContainer}` }], Failures: [] };
    },
    VerifyApplication: async () => {
      const name = appContainer as string;
      const state = JSON.parse(await docker(['inspect', '--format', '{{json .State}}', name])) as {
        Status: string;
        ExitCode: number;
        Error: string;
      };
      const probe: ApplicationProbe = {
        task: {
          lastStatus:
            state.Status === 'running'
              ? 'RUNNING'
              : state.Status === 'created'
                ? 'PENDING'
                : 'STOPPED',
          stoppedReason: state.Error || `container ${state.Status}`,
          containers: [{ name: 'wordpress', exitCode: state.ExitCode }],
        },
      };
      if (probe.task.lastStatus === 'RUNNING') {
        const readyz = await httpGet('127.0.0.1', appPort, '/readyz', `127.0.0.1:${appPort}`);
        const home =
          'status' in readyz && readyz.status === 200
            ? await httpGet('127.0.0.1', appPort, '/', `127.0.0.1:${appPort}`)
            : undefined;
        Object.assign(probe, { readyz, home });
      }
      return judgeApplication(probe);
    },
    StopVerificationTask: async () => {
      if (!appContainer) return {};
      try {
        await docker(['rm', '-f', appContainer]);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      appContainer = undefined;
      return {};
    },
    DeleteScratchInstance: async (input) => {
      const id = (input as { DbInstanceIdentifier: string }).DbInstanceIdentifier;
      const handle = scratch ?? scratchHandle(opts, id);
      await removeDatabase(handle);
      scratch = undefined;
      return {};
    },
    PublishMetrics: (input) => {
      opts.onMetrics?.(input);
      return { passed: !(input as { run: { failure?: unknown } }).run.failure };
    },
    NotifyFailure: (input) => {
      const message = (input as { Message: string }).Message;
      (opts.notify ?? ((m: string) => process.stderr.write(`${m}\n`)))(message);
      return { MessageId: `local-${Date.now()}` };
    },
  };
}
