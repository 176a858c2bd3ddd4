import { randomBytes } from 'node:crypto';
import { chmod, chown, copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { basename, join } from 'node:path';
import type { Task, TaskDefinition } from '@aws-sdk/client-ecs';
import {
  type ContainerInspect,
  containersByLabel,
  docker,
  ensureVolume,
  inspectContainers,
  LABEL_MANAGED,
  LABEL_RELEASE,
  LABEL_REVISION,
  LABEL_ROLE,
  LABEL_SERVICE,
  removeContainer,
  runContainer,
} from './docker.ts';

/** A task could not be started (bad input or the engine refused). */
export class RunTaskError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'RunTaskError';
  }
}

/** The container name used in task definitions and ECS Task containers[]. */
export const CONTAINER_NAME = 'wordpress';
const LABEL_PORT = 'stepdeploy.port';
const LABEL_TASK_DEFINITION = 'stepdeploy.task-definition';
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/** Input of {@link runTask}: one WordPress container as one ECS task. */
export interface RunTaskInput {
  readonly stateDir: string;
  readonly service: string;
  readonly revision: number;
  readonly releaseId: string;
  /** Image reference, ideally by digest (`127.0.0.1:5000/wordpress@sha256:...`). */
  readonly image: string;
  /** Plain configuration; secrets here are refused by the task-definition store, not here. */
  readonly env?: Record<string, string>;
  /** Env name → host secret file; passed to the container as `<NAME>_FILE` (read-only mount). */
  readonly secretFiles?: Record<string, string>;
  /** Port on 127.0.0.1; a free one from `portBase` up when omitted. */
  readonly port?: number;
  readonly portBase?: number;
  readonly taskDefinitionArn?: string;
  /** Where the shared uploads volume is mounted (the role's wp-content/uploads). */
  readonly uploadsPath?: string;
  /** Overrides the image's command (tests, one-off admin tasks). */
  readonly command?: readonly string[];
}

/** A local task as read back from Docker. */
export interface LocalTask {
  readonly id: string;
  readonly name: string;
  readonly service: string;
  readonly revision: number;
  readonly releaseId: string;
  readonly port: number;
  readonly image: string;
  readonly taskDefinitionArn: string;
  readonly lastStatus: 'PROVISIONING' | 'PENDING' | 'RUNNING' | 'STOPPED';
  readonly desiredStatus: 'RUNNING' | 'STOPPED';
  readonly exitCode?: number;
  readonly stoppedReason?: string;
  readonly stopCode?: 'UserInitiated' | 'EssentialContainerExited' | 'TaskFailedToStart';
  readonly createdAt: string;
  readonly startedAt?: string;
  readonly stoppedAt?: string;
}

/** Why we stopped a task (written by stopTask, read by listTasks). */
interface StopRecord {
  readonly reason: string;
  readonly at: string;
}

function taskDir(stateDir: string, name: string): string {
  return join(stateDir, 'tasks', name);
}

const isDockerTime = (t: string | undefined) => !!t && !t.startsWith('0001-');

/**
 * Maps `docker inspect` of a task container (and our stop record, if any) to a LocalTask. Pure.
 * Reasons follow ECS wording so the same decision functions read both.
 */
export function taskFromInspect(c: ContainerInspect, stop?: StopRecord): LocalTask {
  const labels = c.Config.Labels ?? {};
  const revision = Number(labels[LABEL_REVISION] ?? '0');
  const service = labels[LABEL_SERVICE] ?? '';
  const s = c.State;
  // `created` with an Error is a container the engine failed to start: it will never run.
  const lastStatus: LocalTask['lastStatus'] = s.Running
    ? 'RUNNING'
    : (s.Status === 'created' && !s.Error) || s.Status === 'restarting'
      ? 'PENDING'
      : 'STOPPED';
  const base = {
    id: c.Id,
    name: c.Name.replace(/^\//, ''),
    service,
    revision,
    releaseId: labels[LABEL_RELEASE] ?? '',
    port: Number(labels[LABEL_PORT] ?? '0'),
    image: c.Config.Image,
    taskDefinitionArn:
      labels[LABEL_TASK_DEFINITION] ?? `arn:local:ecs:task-definition/${service}:${revision}`,
    createdAt: c.Created,
    startedAt: isDockerTime(s.StartedAt) ? s.StartedAt : undefined,
  };
  if (lastStatus !== 'STOPPED')
    return { ...base, lastStatus, desiredStatus: stop ? 'STOPPED' : 'RUNNING' };
  const stoppedAt = isDockerTime(s.FinishedAt) ? s.FinishedAt : stop?.at;
  if (stop)
    return {
      ...base,
      lastStatus,
      desiredStatus: 'STOPPED',
      exitCode: s.ExitCode,
      stoppedReason: stop.reason,
      stopCode: 'UserInitiated',
      stoppedAt,
    };
  if (s.Status === 'created' || (s.Error && !isDockerTime(s.StartedAt)))
    return {
      ...base,
      lastStatus,
      desiredStatus: 'STOPPED',
      stoppedReason: `CannotStartContainerError: ${s.Error || 'container never started'}`,
      stopCode: 'TaskFailedToStart',
      stoppedAt,
    };
  const why = s.OOMKilled
    ? 'OutOfMemoryError: Container killed due to memory usage'
    : `Essential container in task exited (exit code ${s.ExitCode}${s.Error ? `: ${s.Error}` : ''})`;
  return {
    ...base,
    lastStatus,
    desiredStatus: 'STOPPED',
    exitCode: s.ExitCode,
    stoppedReason: why,
    stopCode: 'EssentialContainerExited',
    stoppedAt,
  };
}

/** The local task as an `@aws-sdk/client-ecs` Task, for the shared decision functions. Pure. */
export function toEcsTask(task: LocalTask, cluster = 'local'): Task {
  const taskArn = `arn:local:ecs:task/${cluster}/${task.id.slice(0, 32)}`;
  return {
    taskArn,
    clusterArn: `arn:local:ecs:cluster/${cluster}`,
    taskDefinitionArn: task.taskDefinitionArn,
    group: `service:${task.service}`,
    startedBy: task.releaseId || undefined,
    lastStatus: task.lastStatus,
    desiredStatus: task.desiredStatus,
    launchType: 'FARGATE',
    createdAt: new Date(task.createdAt),
    startedAt: task.startedAt ? new Date(task.startedAt) : undefined,
    stoppedAt: task.stoppedAt ? new Date(task.stoppedAt) : undefined,
    stoppedReason: task.stoppedReason,
    stopCode: task.stopCode,
    containers: [
      {
        name: CONTAINER_NAME,
        taskArn,
        image: task.image,
        lastStatus: task.lastStatus,
        exitCode: task.exitCode,
        reason: task.lastStatus === 'STOPPED' ? task.stoppedReason : undefined,
        networkBindings: [
          { bindIP: '127.0.0.1', containerPort: task.port, hostPort: task.port, protocol: 'tcp' },
        ],
      },
    ],
  };
}

/**
 * The runTask input for one task of a stored task definition: `environment` becomes env and
 * `secrets[].valueFrom` (a local secret file path) becomes a `<NAME>_FILE` mount. Pure.
 */
export function runInputFromTaskDefinition(
  td: TaskDefinition,
  where: Pick<RunTaskInput, 'stateDir' | 'service' | 'releaseId' | 'port' | 'portBase'>,
): RunTaskInput {
  const container =
    td.containerDefinitions?.find((c) => c.name === CONTAINER_NAME) ?? td.containerDefinitions?.[0];
  if (!container?.image)
    throw new RunTaskError(
      `task definition ${td.taskDefinitionArn} has no ${CONTAINER_NAME} image`,
    );
  if (!td.revision)
    throw new RunTaskError(`task definition ${td.taskDefinitionArn} has no revision`);
  const env: Record<string, string> = {};
  for (const e of container.environment ?? []) if (e.name) env[e.name] = e.value ?? '';
  const secretFiles: Record<string, string> = {};
  for (const sec of container.secrets ?? []) {
    if (!sec.name || !sec.valueFrom?.startsWith('/'))
      throw new RunTaskError(
        `secret ${sec.name} must reference a local secret file by absolute path, got ${sec.valueFrom}`,
      );
    secretFiles[sec.name] = sec.valueFrom;
  }
  return {
    ...where,
    revision: td.revision,
    image: container.image,
    env,
    secretFiles,
    taskDefinitionArn: td.taskDefinitionArn,
  };
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** The first port from `base` that is free on 127.0.0.1 and not claimed by one of our tasks. */
export async function allocatePort(base: number): Promise<number> {
  const claimed = new Set(
    (await inspectContainers(await containersByLabel({ [LABEL_ROLE]: 'task' })))
      .filter((c) => c.State.Running || c.State.Status === 'created')
      .map((c) => Number(c.Config.Labels?.[LABEL_PORT] ?? '0')),
  );
  for (let port = base; port < Math.min(base + 1000, 65536); port++) {
    if (!claimed.has(port) && (await portFree(port))) return port;
  }
  throw new RunTaskError(`no free port on 127.0.0.1 in ${base}-${base + 999}`);
}

/** Resolves the uid:gid an image runs as, so secret copies can be owned by it (mode 400). */
export async function imageUser(image: string): Promise<{ uid: number; gid: number }> {
  const user = (await docker(['image', 'inspect', '--format', '{{.Config.User}}', image])).trim();
  if (user === '' || user === 'root' || user === '0') return { uid: 0, gid: 0 };
  const numeric = /^(\d+)(?::(\d+))?$/.exec(user);
  if (numeric) return { uid: Number(numeric[1]), gid: Number(numeric[2] ?? numeric[1]) };
  const [name, group] = user.split(':');
  const id = await docker([
    'run',
    '--rm',
    '--network',
    'none',
    '--entrypoint',
    'sh',
    image,
    '-c',
    'echo "$(id -u "$1"):$(if [ -n "$2" ]; then getent group "$2" | cut -d: -f3; else id -g "$1"; fi)"',
    'sh',
    name ?? '',
    group ?? '',
  ]);
  const [uid, gid] = id.trim().split(':').map(Number);
  if (!Number.isInteger(uid) || !Number.isInteger(gid))
    throw new RunTaskError(`cannot resolve user ${user} of image ${image}`);
  return { uid: uid as number, gid: gid as number };
}

/**
 * Starts one task: a WordPress container on the host network bound to 127.0.0.1:<port>,
 * read-only root, tmpfs /tmp and /run, the service's uploads volume, secrets as read-only
 * files (`<NAME>_FILE`). Labelled with service, revision and release. Returns the task.
 */
export async function runTask(input: RunTaskInput): Promise<LocalTask> {
  if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(input.service))
    throw new RunTaskError(`service must match [a-z0-9-], got ${input.service}`);
  if (!Number.isInteger(input.revision) || input.revision < 1)
    throw new RunTaskError(`revision must be a positive integer, got ${input.revision}`);
  for (const name of [...Object.keys(input.env ?? {}), ...Object.keys(input.secretFiles ?? {})])
    if (!ENV_NAME.test(name)) throw new RunTaskError(`invalid environment variable name ${name}`);

  const port = input.port ?? (await allocatePort(input.portBase ?? 18000));
  const name = `stepdeploy-${input.service}-r${input.revision}-${randomBytes(3).toString('hex')}`;
  const dir = taskDir(input.stateDir, name);
  await mkdir(join(dir, 'secrets'), { recursive: true, mode: 0o700 });

  // Copies owned by the image's user (mode 400): the originals stay root-only at mode 600.
  const mounts: string[] = [];
  const secretEnv: Record<string, string> = {};
  if (input.secretFiles && Object.keys(input.secretFiles).length > 0) {
    const owner = await imageUser(input.image);
    for (const [envName, hostPath] of Object.entries(input.secretFiles)) {
      const copy = join(dir, 'secrets', envName.toLowerCase());
      await copyFile(hostPath, copy);
      await chmod(copy, 0o400);
      if (process.getuid?.() === 0) await chown(copy, owner.uid, owner.gid);
      const inContainer = `/run/secrets/${basename(copy)}`;
      mounts.push(`${copy}:${inContainer}:ro`);
      secretEnv[`${envName}_FILE`] = inContainer;
    }
    if (process.getuid?.() === 0) await chown(join(dir, 'secrets'), owner.uid, owner.gid);
  }

  const uploads = `stepdeploy-${input.service}-uploads`;
  await ensureVolume(uploads, {
    [LABEL_MANAGED]: 'true',
    [LABEL_SERVICE]: input.service,
    [LABEL_ROLE]: 'uploads',
  });
  mounts.push(`${uploads}:${input.uploadsPath ?? '/var/lib/wordpress/wp-content/uploads'}`);

  const labels: Record<string, string> = {
    [LABEL_SERVICE]: input.service,
    [LABEL_REVISION]: String(input.revision),
    [LABEL_RELEASE]: input.releaseId,
    [LABEL_ROLE]: 'task',
    [LABEL_PORT]: String(port),
  };
  if (input.taskDefinitionArn) labels[LABEL_TASK_DEFINITION] = input.taskDefinitionArn;
  let id: string;
  try {
    id = await runContainer({
      name,
      image: input.image,
      labels,
      env: { ...input.env, ...secretEnv, BIND_ADDRESS: '127.0.0.1', PORT: String(port) },
      mounts,
      tmpfs: ['/tmp', '/run:exec'],
      readOnly: true,
      stopTimeoutSeconds: 10,
      command: input.command,
    });
  } catch (err) {
    throw new RunTaskError(`could not start task ${name}: ${(err as Error).message}`, err);
  }
  const [c] = await inspectContainers([id]);
  if (!c) throw new RunTaskError(`task ${name} disappeared right after start`);
  return taskFromInspect(c);
}

async function stopRecord(stateDir: string, name: string): Promise<StopRecord | undefined> {
  try {
    return JSON.parse(await readFile(join(taskDir(stateDir, name), 'stopped.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Tasks of a service (all services when omitted), newest first; filter by revision/status. */
export async function listTasks(opts: {
  readonly stateDir: string;
  readonly service?: string;
  readonly revision?: number;
  readonly desiredStatus?: 'RUNNING' | 'STOPPED';
}): Promise<LocalTask[]> {
  const filter: Record<string, string> = { [LABEL_ROLE]: 'task' };
  if (opts.service) filter[LABEL_SERVICE] = opts.service;
  if (opts.revision !== undefined) filter[LABEL_REVISION] = String(opts.revision);
  const containers = await inspectContainers(await containersByLabel(filter));
  const tasks: LocalTask[] = [];
  for (const c of containers) {
    tasks.push(taskFromInspect(c, await stopRecord(opts.stateDir, c.Name.replace(/^\//, ''))));
  }
  return tasks
    .filter((t) => !opts.desiredStatus || t.desiredStatus === opts.desiredStatus)
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
}

/** Stops a task (SIGTERM, then SIGKILL after the timeout), recording why, like ECS StopTask. */
export async function stopTask(
  stateDir: string,
  task: Pick<LocalTask, 'name'>,
  reason = 'Task stopped by user',
  timeoutSeconds = 10,
): Promise<void> {
  const dir = taskDir(stateDir, task.name);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const record: StopRecord = { reason, at: new Date().toISOString() };
  await writeFile(join(dir, 'stopped.json'), `${JSON.stringify(record)}\n`, { mode: 0o600 });
  await docker(['stop', '-t', String(timeoutSeconds), task.name]);
}

/** Removes a task container and its state (secret copies, stop record). */
export async function removeTask(stateDir: string, task: Pick<LocalTask, 'name'>): Promise<void> {
  await removeContainer(task.name);
  await rm(taskDir(stateDir, task.name), { recursive: true, force: true });
}
