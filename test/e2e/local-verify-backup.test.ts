/**
 * `stepdeploy local verify-backup` on a real local stack: the verify-restore state machine from
 * the synthesized template restores a release's snapshot into a scratch MariaDB container,
 * verifies it against the snapshot's manifest, boots the service's WordPress revision on it, and
 * removes the scratch containers on every path. Its own service name, ports and state dir; every
 * request goes to 127.0.0.1.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapService } from '#local/bootstrap.ts';
import type { LocalConfig } from '#local/config.ts';
import type { SnapshotMetadata } from '#local/database.ts';
import { runLocalRelease } from '#local/release.ts';
import { down, type StackHandle, up } from '#local/stack.ts';
import { releaseDefinition } from '#local/synth.ts';
import { TaskDefinitionStore } from '#local/task-definitions.ts';
import {
  type VerifyBackupSummary,
  verifyBackupLocally,
  verifyRestoreDefinition,
} from '#local/verify-backup.ts';
import { latestSnapshot, SCRATCH_ROLE, VERIFY_APP_ROLE } from '#local/verify-restore.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const HOME = `/tmp/sd-e2e-verify-${process.pid}`;
const SERVICE = 'e2evb';
const CONFIG: Partial<LocalConfig> = {
  stateDir: HOME,
  service: SERVICE,
  sitePort: 18380,
  registryPort: 15400,
  databasePort: 23606,
  taskPortBase: 28400,
};
const ENV: NodeJS.ProcessEnv = {
  ...process.env,
  STEPDEPLOY_HOME: HOME,
  STEPDEPLOY_SERVICE: SERVICE,
  STEPDEPLOY_SITE_PORT: String(CONFIG.sitePort),
  STEPDEPLOY_REGISTRY_PORT: String(CONFIG.registryPort),
  STEPDEPLOY_DB_PORT: String(CONFIG.databasePort),
  STEPDEPLOY_TASK_PORT_BASE: String(CONFIG.taskPortBase),
};
const MINUTES = 60_000;

let stack: StackHandle;
let definition: StateMachineDefinition;
let snapshot: SnapshotMetadata;

/** Names of our containers with a role, stopped ones included. */
function containersWithRole(role: string): string[] {
  return execFileSync(
    'docker',
    [
      'ps',
      '-a',
      '--format',
      '{{.Names}}',
      '--filter',
      `label=stepdeploy.service=${SERVICE}`,
      '--filter',
      `label=stepdeploy.role=${role}`,
    ],
    { encoding: 'utf8' },
  )
    .split('\n')
    .filter(Boolean);
}

function scratchVolumes(): string[] {
  return execFileSync(
    'docker',
    [
      'volume',
      'ls',
      '-q',
      '--filter',
      `label=stepdeploy.service=${SERVICE}`,
      '--filter',
      `label=stepdeploy.role=${SCRATCH_ROLE}`,
    ],
    { encoding: 'utf8' },
  )
    .split('\n')
    .filter(Boolean);
}

/** A copy of the good snapshot under a new id, its dump and/or metadata altered. */
async function corruptedCopy(
  id: string,
  alter: { dump?: (sql: string) => string; meta?: (m: SnapshotMetadata) => SnapshotMetadata },
): Promise<string> {
  const dir = join(HOME, 'snapshots', id);
  await cp(join(HOME, 'snapshots', snapshot.id), dir, { recursive: true });
  const dumpFile = join(dir, 'dump.sql');
  if (alter.dump) await writeFile(dumpFile, alter.dump(await readFile(dumpFile, 'utf8')));
  const meta = { ...snapshot, id, dumpFile };
  await writeFile(join(dir, 'metadata.json'), JSON.stringify(alter.meta ? alter.meta(meta) : meta));
  return id;
}

/** The dump without the statement starting with `head` (mariadb-dump puts its rows on the lines after). */
function withoutStatement(sql: string, head: string): string {
  const lines = sql.split('\n');
  const start = lines.findIndex((line) => line.startsWith(head));
  expect(start).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((line, i) => i >= start && line.trimEnd().endsWith(';'));
  return [...lines.slice(0, start), ...lines.slice(end + 1)].join('\n');
}

/** Runs `stepdeploy local verify-backup <args>` through the real entry point. */
function cli(
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'stepdeploy.js'), 'local', 'verify-backup', ...args],
    { cwd: ROOT, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((ok) => child.on('close', (code) => ok({ code, stdout, stderr })));
}

beforeAll(async () => {
  stack = await up(CONFIG);
  const boot = await bootstrapService(stack, { desiredCount: 1 });
  const image = (await new TaskDefinitionStore(HOME).describe(boot.taskDefinitionArn))
    .containerDefinitions?.[0]?.image as string;
  // Two releases of the running image: the first installs WordPress (InstallWordPress, after
  // its snapshot of the fresh database), the second's pre-deploy snapshot holds the real site.
  for (const round of [1, 2]) {
    const release = await runLocalRelease(stack, await releaseDefinition(HOME), {
      source: { kind: 'image', imageUri: image },
      startedBy: `e2e-verify-backup-${round}`,
    });
    expect(release.outcome, release.cause).toBe('SUCCEEDED');
  }
  snapshot = (await latestSnapshot(HOME)) as SnapshotMetadata;
  expect(snapshot?.tables.length).toBeGreaterThanOrEqual(12);
  definition = await verifyRestoreDefinition(HOME);
}, 20 * MINUTES);

afterAll(async () => {
  await down(CONFIG);
}, 5 * MINUTES);

describe.sequential('local verify-backup', () => {
  it(
    'passes on the release snapshot: data verified, WordPress booted on it, RTO and RPO reported',
    async () => {
      // Prepare
      const during: Record<string, string[]> = {};
      const notes: string[] = [];
      // Act
      const result = await verifyBackupLocally({
        config: stack.config,
        live: stack.database,
        definition,
        hooks: {
          note: (line) => notes.push(line),
          onStep: (event) => {
            if (event.type === 'StepEntered' && event.step === 'VerifyApplication')
              during.app ??= [
                ...containersWithRole(SCRATCH_ROLE),
                ...containersWithRole(VERIFY_APP_ROLE),
              ];
          },
        },
      });
      // Assess
      expect(result.outcome, `${result.failedCheck}: ${result.reason}`).toBe('PASSED');
      expect(result).toMatchObject({
        snapshotId: snapshot.id,
        failedCheck: null,
        failedChecks: [],
        cleanup: { status: 'clean', leftovers: [] },
      });
      expect(result.rtoSeconds).toBeGreaterThanOrEqual(0);
      expect(result.snapshotAgeSeconds).toBeGreaterThanOrEqual(0);
      const statusOf = (step: string) => result.steps.find((s) => s.step === step)?.status;
      for (const step of [
        'PickSnapshot',
        'RestoreScratchInstance',
        'VerifyData',
        'RegisterVerificationTaskDefinition',
        'RunVerificationTask',
        'VerifyApplication',
        'StopVerificationTask',
        'DeleteScratchInstance',
        'PublishMetrics',
      ])
        expect(statusOf(step), step).toBe('succeeded');
      // Both containers existed while the application was checked, and are gone now.
      expect(during.app).toHaveLength(2);
      expect(notes.some((n) => n.startsWith('application verified: readyz 200'))).toBe(true);
      expect(containersWithRole(SCRATCH_ROLE)).toEqual([]);
      expect(containersWithRole(VERIFY_APP_ROLE)).toEqual([]);
      expect(scratchVolumes()).toEqual([]);
      const metrics = (await readFile(join(HOME, 'metrics.log'), 'utf8')).trim().split('\n');
      expect(JSON.parse(metrics.at(-1) as string).data).toContainEqual(
        expect.objectContaining({ MetricName: 'VerificationSucceeded', Value: 1 }),
      );
    },
    10 * MINUTES,
  );

  it(
    'CLI: fails on a snapshot whose dump lost a table, naming the check, and leaves nothing behind',
    async () => {
      // Prepare: the dump without wp_posts' rows (a truncated table); the manifest still says otherwise
      const id = await corruptedCopy('e2e-truncated-posts', {
        dump: (sql) => withoutStatement(sql, 'INSERT INTO `wp_posts`'),
      });
      const posts = snapshot.tables.find((t) => t.table === 'wp_posts')?.rows;
      // Act
      const run = await cli(['--snapshot', id, '--json']);
      // Assess
      let result: VerifyBackupSummary;
      try {
        result = JSON.parse(run.stdout) as VerifyBackupSummary;
      } catch {
        throw new Error(`not JSON (exit ${run.code}): ${run.stdout}\n${run.stderr.slice(-3000)}`);
      }
      expect(run.code).toBe(1);
      expect(result).toMatchObject({
        outcome: 'FAILED',
        snapshotId: id,
        failedCheck: 'VerifyData',
        error: 'DataVerificationError',
        failedChecks: [`RowCountMismatch:wp_posts expected ${posts} got 0`],
        cleanup: { status: 'clean', leftovers: [] },
      });
      expect(result.steps.find((s) => s.step === 'VerifyApplication')).toBeUndefined();
      expect(run.stderr).toContain('▶ VerifyData');
      expect(run.stderr).toContain('✗ VerifyData DataVerificationError');
      const notified = (await readFile(join(HOME, 'notifications.log'), 'utf8')).trim().split('\n');
      expect(JSON.parse(notified.at(-1) as string).message).toMatch(
        /failed at step VerifyData: DataVerificationError: data checks failed: RowCountMismatch:wp_posts/,
      );
      expect(containersWithRole(SCRATCH_ROLE)).toEqual([]);
      expect(containersWithRole(VERIFY_APP_ROLE)).toEqual([]);
      expect(scratchVolumes()).toEqual([]);
    },
    10 * MINUTES,
  );

  it(
    'fails on a manifest whose checksum was changed, naming the table and the check',
    async () => {
      // Prepare
      const id = await corruptedCopy('e2e-changed-checksum', {
        meta: (m) => ({
          ...m,
          tables: m.tables.map((t) => (t.table === 'wp_options' ? { ...t, checksum: '1' } : t)),
        }),
      });
      // Act
      const result = await verifyBackupLocally({
        config: stack.config,
        live: stack.database,
        definition,
        snapshotId: id,
      });
      // Assess
      expect(result.outcome).toBe('FAILED');
      expect(result.failedCheck).toBe('VerifyData');
      expect(result.failedChecks).toHaveLength(1);
      expect(result.failedChecks[0]).toMatch(/^ChecksumMismatch:wp_options expected 1 got \d+$/);
      expect(containersWithRole(SCRATCH_ROLE)).toEqual([]);
      expect(scratchVolumes()).toEqual([]);
    },
    10 * MINUTES,
  );

  it(
    'fails at the restore on a dump that does not load, with the server error, and removes the scratch',
    async () => {
      // Prepare: the INSERT header of wp_posts gone, its rows left dangling (a syntax error)
      const id = await corruptedCopy('e2e-broken-dump', {
        dump: (sql) =>
          sql
            .split('\n')
            .filter((line) => !line.startsWith('INSERT INTO `wp_posts`'))
            .join('\n'),
      });
      // Act
      const result = await verifyBackupLocally({
        config: stack.config,
        live: stack.database,
        definition,
        snapshotId: id,
      });
      // Assess
      expect(result).toMatchObject({
        outcome: 'FAILED',
        failedCheck: 'RestoreScratchInstance',
        error: 'ScratchRestoreError',
        cleanup: { status: 'clean', leftovers: [] },
      });
      expect(result.reason).toMatch(/did not load into stepdeploy-\S+: ERROR 1064/);
      expect(result.steps.find((s) => s.step === 'DeleteScratchInstance')?.status).toBe(
        'succeeded',
      );
      expect(containersWithRole(SCRATCH_ROLE)).toEqual([]);
      expect(scratchVolumes()).toEqual([]);
    },
    10 * MINUTES,
  );

  it('refuses a snapshot that does not exist with a clear reason, before any container', async () => {
    // Act
    const result = await verifyBackupLocally({
      config: stack.config,
      definition,
      snapshotId: 'no-such-snapshot',
    });
    // Assess
    expect(result).toMatchObject({
      outcome: 'FAILED',
      failedCheck: 'PickSnapshot',
      error: 'NoSnapshotError',
      snapshotId: null,
    });
    expect(result.reason).toContain('snapshot no-such-snapshot does not exist');
    expect(result.steps.find((s) => s.step === 'RestoreScratchInstance')).toBeUndefined();
    expect(containersWithRole(SCRATCH_ROLE)).toEqual([]);
  });
});
