import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { NamedError } from '#commons/errors.ts';
import { LIVE_READERS } from '#commons/table-content.ts';
import type { ChecksumMethod, SnapshotManifest } from '#commons/verify-data-checks.ts';
import { connectDatabase, type DatabaseEndpoint, readSchema } from '#commons/verify-data-sql.ts';
import { collectManifest } from '#commons/verify-manifest.ts';
import { pollUntil } from '#commons/wait.ts';
import { type DatabaseSchema, DEFAULT_TABLE_PREFIX } from '#commons/wordpress-schema.ts';
import { IMAGES_DIR } from './config.ts';
import {
  buildImageOnce,
  containerLogs,
  DockerError,
  dockerToFile,
  ensureVolume,
  exec,
  inspectContainer,
  removeContainer,
  removeVolume,
  roleLabels,
  runContainer,
} from './docker.ts';
import { ensureSecret, readSecret } from './secrets.ts';

/** The database did not become ready, or a snapshot/restore failed; the message says why. */
export class DatabaseError extends NamedError {
  override readonly name = 'DatabaseError';
}

/** A snapshot id was refused or names no stored snapshot. */
export class SnapshotNotFoundError extends Error {
  constructor(id: string) {
    super(`snapshot ${id} does not exist`);
    this.name = 'SnapshotNotFoundError';
  }
}

/** What callers need to reach a running local database; secrets only as file paths. */
export interface DatabaseHandle {
  readonly name: string;
  readonly container: string;
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** Mode-600 file holding the application user's password. */
  readonly passwordFile: string;
  /** Mode-600 file holding root's password (root also has socket auth inside the container). */
  readonly rootPasswordFile: string;
  readonly stateDir: string;
  readonly volume: string;
}

/** Options for {@link startDatabase}. */
export interface StartDatabaseOptions {
  /** Instance name; containers are `stepdeploy-<name>`, volumes `stepdeploy-<name>-data`. */
  readonly name: string;
  readonly port: number;
  readonly stateDir: string;
  /** Value of the stepdeploy.service label (default: name). */
  readonly service?: string;
  readonly database?: string;
  readonly user?: string;
  /** How long to wait for the server to accept the application user. */
  readonly readyTimeoutMs?: number;
}

const NAME_RE = /^[a-z0-9][a-z0-9-]{0,40}$/;
const SNAPSHOT_RE = /^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/;

function handleFor(opts: StartDatabaseOptions): DatabaseHandle {
  if (!NAME_RE.test(opts.name))
    throw new DatabaseError(`database name must match ${NAME_RE}, got ${opts.name}`);
  const secrets = join(opts.stateDir, 'secrets');
  return {
    name: opts.name,
    container: `stepdeploy-${opts.name}`,
    host: '127.0.0.1',
    port: opts.port,
    database: opts.database ?? 'wordpress',
    user: opts.user ?? 'wordpress',
    passwordFile: join(secrets, `${opts.name}-password`),
    rootPasswordFile: join(secrets, `${opts.name}-root-password`),
    stateDir: opts.stateDir,
    volume: `stepdeploy-${opts.name}-data`,
  };
}

/** Builds (once per Dockerfile content) the MariaDB image and returns its reference. */
export function databaseImage(): Promise<string> {
  return buildImageOnce('mariadb', join(IMAGES_DIR, 'mariadb'));
}

async function waitReady(handle: DatabaseHandle, timeoutMs: number): Promise<void> {
  const password = await readSecret(handle.passwordFile);
  let last: unknown;
  await pollUntil(
    async () => {
      const c = await inspectContainer(handle.container);
      if (!c?.State.Running) {
        const logs = c ? await containerLogs(handle.container, 30).catch(() => '') : '';
        throw new DatabaseError(
          `database container ${handle.container} is not running (${c?.State.Status ?? 'absent'}, exit ${c?.State.ExitCode}): ${logs.trim()}`,
        );
      }
      try {
        const conn = await mysql.createConnection({
          host: handle.host,
          port: handle.port,
          user: handle.user,
          password,
          database: handle.database,
          connectTimeout: 2000,
        });
        await conn.query('SELECT 1');
        await conn.end();
        return true;
      } catch (err) {
        last = err;
        return false;
      }
    },
    {
      intervalMs: 500,
      timeoutMs,
      description: `database ${handle.container}`,
      onTimeout: () => {
        throw new DatabaseError(
          `database ${handle.container} did not accept ${handle.user} on 127.0.0.1:${handle.port}: ${(last as Error)?.message}`,
          { cause: last },
        );
      },
    },
  );
}

async function startContainer(
  handle: DatabaseHandle,
  service: string,
  role: string,
  extraEnv: Record<string, string> = {},
  extraMounts: string[] = [],
): Promise<void> {
  const existing = await inspectContainer(handle.container);
  if (existing?.State.Running) return;
  if (existing) {
    await removeContainer(handle.container);
  }
  const image = await databaseImage();
  await ensureVolume(handle.volume, roleLabels(service, role));
  await ensureSecret(handle.passwordFile);
  await ensureSecret(handle.rootPasswordFile);
  await runContainer({
    name: handle.container,
    image,
    labels: roleLabels(service, role),
    env: {
      MARIADB_PORT: String(handle.port),
      MARIADB_DATABASE: handle.database,
      MARIADB_USER: handle.user,
      MARIADB_PASSWORD_FILE: '/run/secrets/db-password',
      MARIADB_ROOT_PASSWORD_FILE: '/run/secrets/db-root-password',
      ...extraEnv,
    },
    mounts: [
      `${handle.volume}:/var/lib/mysql`,
      `${handle.passwordFile}:/run/secrets/db-password:ro`,
      `${handle.rootPasswordFile}:/run/secrets/db-root-password:ro`,
      ...extraMounts,
    ],
    // A scratch restore must never come back after a half-loaded dump looking ready: only the
    // long-lived database restarts with the engine.
    restart: role === 'database' ? 'unless-stopped' : 'no',
  });
}

/**
 * Starts (or finds running) the local "RDS": a MariaDB container on 127.0.0.1:<port> with a
 * data volume, an application database and a least-privilege application user whose password
 * is generated into a mode-600 file. Idempotent; resolves once the app user can query.
 */
export async function startDatabase(opts: StartDatabaseOptions): Promise<DatabaseHandle> {
  const handle = handleFor(opts);
  await startContainer(handle, opts.service ?? opts.name, 'database');
  await waitReady(handle, opts.readyTimeoutMs ?? 120_000);
  return handle;
}

/** Runs SQL as root over the container's unix socket (no password on any command line). */
export function rootQuery(handle: Pick<DatabaseHandle, 'container'>, sql: string): Promise<string> {
  return exec(handle.container, ['mariadb', '--batch', '--skip-column-names'], { input: sql });
}

/** Per-table row count and content checksum, for proving a restore holds the same data. */
export interface TableManifestEntry {
  readonly table: string;
  readonly rows: number;
  readonly checksum: string | null;
}

/**
 * The manifest of the database as RecordSnapshotManifest records it on RDS (the same
 * `collectManifest`, with its readers), read as the application user over 127.0.0.1.
 */
async function liveManifest(
  handle: Pick<DatabaseHandle, 'host' | 'port' | 'user' | 'passwordFile' | 'database'>,
  snapshotId: string,
  tablePrefix: string,
): Promise<SnapshotManifest> {
  const endpoint = await databaseEndpoint(handle);
  const conn = await connectDatabase(endpoint);
  try {
    return await collectManifest(conn, snapshotId, new Date(), tablePrefix, {
      openMore: () => connectDatabase(endpoint),
      parallelism: LIVE_READERS,
    });
  } finally {
    await conn.end().catch(() => undefined);
  }
}

/** A manifest's tables as snapshot metadata lists them, sorted by table name. Pure. */
function manifestEntries(manifest: SnapshotManifest): TableManifestEntry[] {
  return Object.entries(manifest.tables)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([table, stat]) => ({ table, rows: stat.rows, checksum: stat.checksum }));
}

/** Row counts and content checksums of every base table of the database, sorted by table name. */
export async function tableManifest(
  handle: Pick<DatabaseHandle, 'host' | 'port' | 'user' | 'passwordFile' | 'database'>,
): Promise<TableManifestEntry[]> {
  return manifestEntries(await liveManifest(handle, 'table-manifest', DEFAULT_TABLE_PREFIX));
}

/** Where and as whom to connect to the database over 127.0.0.1, its password read from its file. */
export async function databaseEndpoint(
  handle: Pick<DatabaseHandle, 'host' | 'port' | 'user' | 'passwordFile' | 'database'>,
): Promise<DatabaseEndpoint> {
  return {
    host: handle.host,
    port: handle.port,
    user: handle.user,
    password: await readSecret(handle.passwordFile),
    database: handle.database,
  };
}

/**
 * The schema of the database (db_version from `<tablePrefix>options`, every base table with its
 * columns), read as the application user over 127.0.0.1 with the same `readSchema` the
 * Lambdas use, so a local manifest and an RDS one describe a schema identically.
 */
export async function liveSchema(
  handle: Pick<DatabaseHandle, 'host' | 'port' | 'user' | 'passwordFile' | 'database'>,
  tablePrefix: string,
): Promise<DatabaseSchema> {
  const conn = await connectDatabase(await databaseEndpoint(handle));
  try {
    return await readSchema(conn, tablePrefix);
  } finally {
    await conn.end().catch(() => undefined);
  }
}

/** Metadata stored next to each snapshot's dump (`<stateDir>/snapshots/<id>/metadata.json`). */
export interface SnapshotMetadata {
  readonly id: string;
  readonly createdAt: string;
  readonly sizeBytes: number;
  readonly source: { readonly name: string; readonly container: string; readonly database: string };
  readonly engine: string;
  readonly dumpFile: string;
  /** Taken under the same global read lock as the dump, so it describes exactly the dump. */
  readonly tables: readonly TableManifestEntry[];
  /** How `tables` was checksummed; absent on snapshots taken with `CHECKSUM TABLE`. */
  readonly checksumMethod?: ChecksumMethod;
  /**
   * The schema under the same lock (what CompareSchema compares the schema a release left
   * with); absent on snapshots taken before snapshots recorded it.
   */
  readonly schema?: DatabaseSchema;
  /** The CreateDBSnapshot tags (e.g. `stepdeploy:service`), as RDS keeps them on the snapshot. */
  readonly tags?: Readonly<Record<string, string>>;
}

function snapshotDir(stateDir: string, id: string): string {
  if (!SNAPSHOT_RE.test(id))
    throw new DatabaseError(`snapshot id must match ${SNAPSHOT_RE}, got ${JSON.stringify(id)}`);
  return join(stateDir, 'snapshots', id);
}

/** Reads a snapshot's metadata, or undefined when no complete snapshot has that id. */
export async function describeSnapshot(
  stateDir: string,
  id: string,
): Promise<SnapshotMetadata | undefined> {
  try {
    return JSON.parse(
      await readFile(join(snapshotDir(stateDir, id), 'metadata.json'), 'utf8'),
    ) as SnapshotMetadata;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

// Holds FLUSH TABLES WITH READ LOCK in one client session for as long as `body` runs, so the
// dump and the manifest describe the same instant. Writers wait (they do not fail) meanwhile.
async function withGlobalReadLock<T>(container: string, body: () => Promise<T>): Promise<T> {
  const child = spawn(
    'docker',
    ['exec', '-i', container, 'mariadb', '--batch', '--skip-column-names', '--unbuffered'],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  const locked = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('STEPDEPLOY_LOCKED')) resolve();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('close', (code) =>
      reject(new DockerError(['exec', container, 'mariadb (read lock)'], code, stderr)),
    );
  });
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  child.stdin.write("FLUSH TABLES WITH READ LOCK; SELECT 'STEPDEPLOY_LOCKED';\n");
  try {
    await locked;
    return await body();
  } finally {
    child.stdin.end('UNLOCK TABLES;\n');
    await closed;
  }
}

/**
 * Takes a consistent snapshot of the database: `mariadb-dump --single-transaction --routines
 * --triggers` plus a per-table manifest, both under one global read lock, stored in
 * `<stateDir>/snapshots/<id>/`. Idempotent: an existing complete snapshot is returned as is.
 */
export async function snapshotDatabase(
  handle: DatabaseHandle,
  snapshotId: string,
  tags: Readonly<Record<string, string>> = {},
  tablePrefix: string = DEFAULT_TABLE_PREFIX,
): Promise<SnapshotMetadata> {
  const dir = snapshotDir(handle.stateDir, snapshotId);
  const existing = await describeSnapshot(handle.stateDir, snapshotId);
  if (existing) return existing;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const dumpFile = join(dir, 'dump.sql');
  const partial = `${dumpFile}.partial`;
  const { manifest, engine } = await withGlobalReadLock(handle.container, async () => {
    await dockerToFile(
      [
        'exec',
        handle.container,
        'mariadb-dump',
        '--single-transaction',
        '--routines',
        '--triggers',
        '--events',
        '--hex-blob',
        '--skip-dump-date',
        handle.database,
      ],
      partial,
    );
    const engine = (await rootQuery(handle, 'SELECT VERSION();')).trim();
    // Reads only: they do not wait on the global read lock another session holds.
    return { manifest: await liveManifest(handle, snapshotId, tablePrefix), engine };
  });
  await rename(partial, dumpFile);
  const meta: SnapshotMetadata = {
    id: snapshotId,
    createdAt: new Date().toISOString(),
    sizeBytes: (await stat(dumpFile)).size,
    source: { name: handle.name, container: handle.container, database: handle.database },
    engine,
    dumpFile,
    tables: manifestEntries(manifest),
    ...(manifest.checksumMethod ? { checksumMethod: manifest.checksumMethod } : {}),
    ...(manifest.schema ? { schema: manifest.schema } : {}),
    tags,
  };
  // metadata.json is written last: its presence marks the snapshot complete.
  await writeFile(join(dir, 'metadata.json.tmp'), `${JSON.stringify(meta, null, 2)}\n`, {
    mode: 0o600,
  });
  await rename(join(dir, 'metadata.json.tmp'), join(dir, 'metadata.json'));
  return meta;
}

/** Options for {@link restoreSnapshot}. */
export interface RestoreOptions {
  /** Scratch instance name (container `stepdeploy-<name>`). */
  readonly name: string;
  readonly port: number;
  readonly stateDir: string;
  readonly service?: string;
  readonly readyTimeoutMs?: number;
}

/**
 * Restores a snapshot into a NEW scratch MariaDB container (own volume, own generated
 * passwords), labelled `stepdeploy.role=scratch-database`. Resolves when the app user can query.
 */
export async function restoreSnapshot(
  snapshotId: string,
  opts: RestoreOptions,
): Promise<DatabaseHandle> {
  const meta = await describeSnapshot(opts.stateDir, snapshotId);
  if (!meta) throw new SnapshotNotFoundError(snapshotId);
  const handle = handleFor({ ...opts, database: meta.source.database });
  if (await inspectContainer(handle.container)) {
    throw new DatabaseError(
      `scratch container ${handle.container} already exists; remove it first`,
    );
  }
  // A leftover volume would make the entrypoint skip the restore: start from empty.
  await removeVolume(handle.volume);
  await startContainer(
    handle,
    opts.service ?? opts.name,
    'scratch-database',
    { MARIADB_RESTORE_FILE: '/run/restore/dump.sql' },
    [`${meta.dumpFile}:/run/restore/dump.sql:ro`],
  );
  await waitReady(handle, opts.readyTimeoutMs ?? 300_000);
  return handle;
}

/** Removes a database container; its volume and secret files too unless keepData. */
export async function removeDatabase(
  handle: DatabaseHandle,
  opts: { readonly keepData?: boolean } = {},
): Promise<void> {
  await removeContainer(handle.container);
  if (opts.keepData) return;
  await removeVolume(handle.volume);
  await rm(handle.passwordFile, { force: true });
  await rm(handle.rootPasswordFile, { force: true });
}

/** Every complete stored snapshot (those whose metadata.json is written), in no order. */
export async function listSnapshots(stateDir: string): Promise<SnapshotMetadata[]> {
  let ids: string[];
  try {
    ids = await readdir(join(stateDir, 'snapshots'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const metas = await Promise.all(
    ids.filter((id) => SNAPSHOT_RE.test(id)).map((id) => describeSnapshot(stateDir, id)),
  );
  return metas.filter((m): m is SnapshotMetadata => m !== undefined);
}

/** Removes a stored snapshot (dump and metadata). */
export async function deleteSnapshot(stateDir: string, id: string): Promise<void> {
  await rm(snapshotDir(stateDir, id), { recursive: true, force: true });
}
