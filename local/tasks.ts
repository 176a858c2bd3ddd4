import { randomBytes } from 'node:crypto';
import { chmod, chown, copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Task, TaskDefinition } from '@aws-sdk/client-ecs';
import { NamedError } from '#commons/errors.ts';
import { accessPointTable, type LocalAccessPoint } from './access-points.ts';
import { timeFactorFromEnv } from './config.ts';
import {
  type ContainerInspect,
  containerLogs,
  containersByLabel,
  DockerError,
  docker,
  ensureVolume,
  inspectContainers,
  inspectImage,
  isNotFound,
  LABEL_MANAGED,
  LABEL_RELEASE,
  LABEL_REVISION,
  LABEL_ROLE,
  LABEL_SERVICE,
  removeContainer,
} from './docker.ts';
import {
  DEFAULT_CPU_SHARES,
  ecsHealthStatus,
  FargateRefusedError,
  fargateDockerArgs,
  fargateProblems,
  type ImageInfo,
  type Preparation,
  servingCpuShares,
} from './fargate.ts';
import { withFileLock } from './lock.ts';

/** A task could not be started (bad input or the engine refused). */
export class RunTaskError extends NamedError {
  override readonly name = 'RunTaskError';
}

/** The container name used in task definitions and ECS Task containers[]. */
export const CONTAINER_NAME = 'wordpress';
const LABEL_PORT = 'stepdeploy.port';
const LABEL_TASK_DEFINITION = 'stepdeploy.task-definition';
const LABEL_STOP_TIMEOUT = 'stepdeploy.stop-timeout';
const LABEL_CPU = 'stepdeploy.cpu';
const LABEL_MEMORY = 'stepdeploy.memory';
const LABEL_SERVING_CPU_SHARES = 'stepdeploy.serving-cpu-shares';

/** Input of {@link runTask}: one task of a registered task definition. */
export interface RunTaskInput {
  readonly stateDir: string;
  readonly service: string;
  readonly revision: number;
  readonly releaseId: string;
  /** The registered revision the task runs; every field is translated with Fargate's semantics. */
  readonly taskDefinition: TaskDefinition;
  /** The container's image (from the task definition), for display. */
  readonly image: string;
  /** Port on 127.0.0.1; a free one from `portBase` up when omitted. */
  readonly port?: number;
  readonly portBase?: number;
  readonly taskDefinitionArn?: string;
  /** Overrides the container's command (tests, one-off admin tasks). */
  readonly command?: readonly string[];
  /**
   * `stepdeploy.role` label (default `task`, a task of the service). A one-off task (e.g.
   * `install`) gets its own, so the service's scheduler neither counts nor drains it.
   */
  readonly role?: string;
  /** Scales the container health check's timings (default: STEPDEPLOY_TIME_FACTOR). */
  readonly timeFactor?: number;
  /** CPU weight until {@link promoteTask} (see RunPlace.startingCpuShares); default: serving. */
  readonly startingCpuShares?: number;
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
  /** The container health check's verdict, as ECS reports it (UNKNOWN without a check). */
  readonly healthStatus: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';
  /** Task CPU units and memory MiB as the task definition sets them. */
  readonly cpu?: string;
  readonly memory?: string;
  /** CPU weight the container runs at now, and the one it serves at (see promoteTask). */
  readonly cpuShares?: number;
  readonly servingCpuShares?: number;
  /** Seconds `docker stop` waits before SIGKILL (the container's stopTimeout). */
  readonly stopTimeoutSeconds?: number;
  readonly exitCode?: number;
  readonly stoppedReason?: string;
  readonly stopCode?: 'UserInitiated' | 'EssentialContainerExited' | 'TaskFailedToStart';
  /** The container's last log line when it stopped on its own (e.g. the entrypoint's error). */
  readonly containerReason?: string;
  readonly createdAt: string;
  readonly startedAt?: string;
  readonly stoppedAt?: string;
}

/** Why we stopped a task (written by stopTask, read by listTasks). */
interface StopRecord {
  readonly reason: string;
  readonly at: string;
}

/** What the container said last when it stopped on its own (read once, kept in the task dir). */
interface ExitRecord {
  readonly lastLine: string;
}

function taskDir(stateDir: string, name: string): string {
  return join(stateDir, 'tasks', name);
}

const isDockerTime = (t: string | undefined) => !!t && !t.startsWith('0001-');

/**
 * Maps `docker inspect` of a task container (and our stop record, if any) to a LocalTask. Pure.
 * Reasons follow ECS wording so the same decision functions read both.
 */
export function taskFromInspect(
  c: ContainerInspect,
  stop?: StopRecord,
  exit?: ExitRecord,
): LocalTask {
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
  const stopTimeout = labels[LABEL_STOP_TIMEOUT];
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
    healthStatus: ecsHealthStatus(s.Health?.Status, s.Running),
    ...(labels[LABEL_CPU] ? { cpu: labels[LABEL_CPU] } : {}),
    ...(labels[LABEL_MEMORY] ? { memory: labels[LABEL_MEMORY] } : {}),
    ...(labels[LABEL_SERVING_CPU_SHARES]
      ? {
          servingCpuShares: Number(labels[LABEL_SERVING_CPU_SHARES]),
          cpuShares: c.HostConfig?.CpuShares || DEFAULT_CPU_SHARES,
        }
      : {}),
    ...(stopTimeout ? { stopTimeoutSeconds: Number(stopTimeout) } : {}),
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
    ...(exit?.lastLine ? { containerReason: exit.lastLine } : {}),
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
    healthStatus: task.healthStatus,
    ...(task.cpu ? { cpu: task.cpu } : {}),
    ...(task.memory ? { memory: task.memory } : {}),
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
        healthStatus: task.healthStatus,
        exitCode: task.exitCode,
        reason:
          task.lastStatus === 'STOPPED' ? (task.containerReason ?? task.stoppedReason) : undefined,
        networkBindings: [
          { bindIP: '127.0.0.1', containerPort: task.port, hostPort: task.port, protocol: 'tcp' },
        ],
      },
    ],
  };
}

/**
 * The runTask input for one task of a stored task definition. Refuses, naming each field, a
 * definition Fargate would refuse or the runner cannot honour (see local/fargate.ts). Pure.
 */
export function runInputFromTaskDefinition(
  td: TaskDefinition,
  where: Pick<
    RunTaskInput,
    | 'stateDir'
    | 'service'
    | 'releaseId'
    | 'port'
    | 'portBase'
    | 'command'
    | 'timeFactor'
    | 'role'
    | 'startingCpuShares'
  >,
): RunTaskInput {
  const container =
    td.containerDefinitions?.find((c) => c.name === CONTAINER_NAME) ?? td.containerDefinitions?.[0];
  if (!container?.image)
    throw new RunTaskError(
      `task definition ${td.taskDefinitionArn} has no ${CONTAINER_NAME} image`,
    );
  if (!td.revision)
    throw new RunTaskError(`task definition ${td.taskDefinitionArn} has no revision`);
  const problems = fargateProblems(td);
  if (problems.length > 0)
    throw new RunTaskError(
      `task definition ${td.taskDefinitionArn} cannot run as a Fargate task: ${problems.join('; ')}`,
    );
  return {
    ...where,
    revision: td.revision,
    image: container.image,
    taskDefinition: td,
    ...(td.taskDefinitionArn ? { taskDefinitionArn: td.taskDefinitionArn } : {}),
  };
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** Task containers that hold their port: every state but exited and dead. */
const HOLDS_PORT = new Set(['created', 'running', 'restarting', 'paused', 'removing']);

/** The first port from `base` not in `claimed` for which `free` says yes. Pure but for `free`. */
export async function choosePort(
  base: number,
  claimed: ReadonlySet<number>,
  free: (port: number) => Promise<boolean>,
): Promise<number> {
  for (let port = base; port < Math.min(base + 1000, 65536); port++) {
    if (!claimed.has(port) && (await free(port))) return port;
  }
  throw new RunTaskError(`no free port on 127.0.0.1 in ${base}-${Math.min(base + 999, 65535)}`);
}

/**
 * The first port from `base` that is free on 127.0.0.1 and not claimed by a task container
 * of any local stack (created, running or restarting: a container not listening yet still
 * holds its port). Call it under {@link withPortLock} and create the container before
 * releasing the lock, or two tasks get the same port.
 */
export async function allocatePort(base: number): Promise<number> {
  // Every container of ours that holds a port (service tasks, trial and install tasks).
  const claimed = new Set(
    (await inspectContainers(await containersByLabel({ [LABEL_MANAGED]: 'true' })))
      .filter((c) => c.State.Running || HOLDS_PORT.has(c.State.Status))
      .map((c) => Number(c.Config.Labels?.[LABEL_PORT] ?? '0')),
  );
  return choosePort(base, claimed, portFree);
}

/**
 * The machine-wide lock task ports are chosen under: ports are the machine's, not one stack's,
 * so every stepdeploy process on it (any STEPDEPLOY_HOME) takes the same lock file.
 */
export const PORT_LOCK = join(tmpdir(), 'stepdeploy-task-ports.lock');

/** Runs `body` (choose a port, create the container) with no other allocation beside it. */
export function withPortLock<R>(body: () => Promise<R>): Promise<R> {
  return withFileLock(PORT_LOCK, body, { timeoutMs: 120_000, staleMs: 120_000 });
}

/** Resolves the uid:gid an image runs as, so secret copies can be owned by it (mode 400). */
export async function imageUser(
  image: string,
  user?: string,
): Promise<{ uid: number; gid: number }> {
  const spec =
    user ?? (await docker(['image', 'inspect', '--format', '{{.Config.User}}', image])).trim();
  if (spec === '' || spec === 'root' || spec === '0') return { uid: 0, gid: 0 };
  const numeric = /^(\d+)(?::(\d+))?$/.exec(spec);
  if (numeric) return { uid: Number(numeric[1]), gid: Number(numeric[2] ?? numeric[1]) };
  const [name, group] = spec.split(':');
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
    throw new RunTaskError(`cannot resolve user ${spec} of image ${image}`);
  return { uid: uid as number, gid: gid as number };
}

/** The image's facts the Fargate translation needs; pulled first when it is not cached. */
async function imageInfo(ref: string): Promise<ImageInfo> {
  let image = await inspectImage(ref);
  if (!image) {
    try {
      await docker(['pull', '--quiet', ref]);
    } catch (err) {
      throw new RunTaskError(
        `CannotPullContainerError: ${ref}: ${err instanceof DockerError ? err.stderr.trim().split('\n').pop() : String(err)}`,
        { cause: err },
      );
    }
    image = await inspectImage(ref);
  }
  if (!image) throw new RunTaskError(`CannotPullContainerError: ${ref} is not in the image cache`);
  return {
    user: image.Config.User ?? '',
    volumes: Object.keys(image.Config.Volumes ?? {}),
    architecture: image.Architecture,
    os: image.Os,
  };
}

async function prepare(step: Preparation, image: string): Promise<void> {
  const root = process.getuid?.() === 0;
  switch (step.kind) {
    case 'empty-dir':
      await rm(step.hostPath, { recursive: true, force: true });
      await mkdir(step.hostPath, { recursive: true, mode: step.mode });
      await chmod(step.hostPath, step.mode);
      if (root) await chown(step.hostPath, step.uid, step.gid);
      return;
    case 'secret-copy':
      await mkdir(dirname(step.to), { recursive: true, mode: 0o700 });
      await copyFile(step.from, step.to);
      await chmod(step.to, 0o400);
      if (root) {
        await chown(step.to, step.uid, step.gid);
        await chown(dirname(step.to), step.uid, step.gid);
      }
      return;
    case 'efs-volume': {
      const created = await ensureVolume(step.volume, { ...step.labels });
      // Like an access point's creationInfo: the root gets its owner and mode when created.
      if (created && step.root)
        await docker([
          'run',
          '--rm',
          '--network',
          'none',
          '--user',
          '0:0',
          '--entrypoint',
          'sh',
          '--mount',
          `type=volume,src=${step.volume},dst=/efs,volume-nocopy`,
          image,
          '-c',
          `chown ${step.root.uid}:${step.root.gid} /efs && chmod ${step.root.mode.toString(8)} /efs`,
        ]);
      return;
    }
  }
}

/**
 * Starts one task of a registered task definition as Fargate would run it (see
 * `fargateDockerArgs` in local/fargate.ts for the field-by-field translation): CPU and memory
 * limits, user, read-only root, volumes with Fargate's ownership, the EFS volume, the container
 * health check, stop timeout, environment and secrets (read-only files, `<NAME>_FILE`), on the
 * host network at 127.0.0.1:<its own port>. The port is chosen and the container created under
 * a machine-wide lock, so concurrent tasks never share a port. Returns the task.
 */
export async function runTask(input: RunTaskInput): Promise<LocalTask> {
  if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(input.service))
    throw new RunTaskError(`service must match [a-z0-9-], got ${input.service}`);
  if (!Number.isInteger(input.revision) || input.revision < 1)
    throw new RunTaskError(`revision must be a positive integer, got ${input.revision}`);
  const td = input.taskDefinition;
  const container = td.containerDefinitions?.[0];
  const image = container?.image ?? input.image;
  const info = await imageInfo(image);
  const user = container?.user ?? info.user;
  const owner = container?.secrets?.length ? await imageUser(image, user) : { uid: 0, gid: 0 };
  const accessPoints = await localAccessPoints(input.stateDir);
  const name = `stepdeploy-${input.service}-r${input.revision}-${randomBytes(3).toString('hex')}`;
  const dir = taskDir(input.stateDir, name);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const hasPort = (container?.portMappings?.length ?? 0) > 0;

  const plan = (port: number | undefined) => {
    const labels: Record<string, string> = {
      [LABEL_MANAGED]: 'true',
      [LABEL_SERVICE]: input.service,
      [LABEL_REVISION]: String(input.revision),
      [LABEL_RELEASE]: input.releaseId,
      [LABEL_ROLE]: input.role ?? 'task',
      [LABEL_PORT]: String(port ?? 0),
      [LABEL_STOP_TIMEOUT]: String(container?.stopTimeout ?? 30),
      ...(td.cpu ? { [LABEL_CPU]: String(td.cpu) } : {}),
      ...(td.memory ? { [LABEL_MEMORY]: String(td.memory) } : {}),
      [LABEL_SERVING_CPU_SHARES]: String(servingCpuShares(container)),
    };
    if (input.taskDefinitionArn ?? td.taskDefinitionArn)
      labels[LABEL_TASK_DEFINITION] = (input.taskDefinitionArn ?? td.taskDefinitionArn) as string;
    try {
      return fargateDockerArgs(td, info, {
        name,
        service: input.service,
        ...(port !== undefined ? { port } : {}),
        labels,
        taskDir: dir,
        secretOwner: owner,
        accessPoints,
        timeFactor: input.timeFactor ?? timeFactorFromEnv(),
        ...(input.command ? { command: input.command } : {}),
        ...(input.startingCpuShares !== undefined
          ? { startingCpuShares: input.startingCpuShares }
          : {}),
      });
    } catch (err) {
      if (err instanceof FargateRefusedError) throw new RunTaskError(err.message, { cause: err });
      throw err;
    }
  };

  // Everything but the port first, so a refused definition fails before any lock or I/O.
  const draft = plan(input.port ?? (hasPort ? 1 : undefined));
  for (const step of draft.prepare) await prepare(step, image);

  const create = async (port: number | undefined) => {
    try {
      return (await docker(['create', ...plan(port).args])).trim();
    } catch (err) {
      throw new RunTaskError(`could not start task ${name}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  };
  const id =
    input.port !== undefined || !hasPort
      ? await create(input.port)
      : await withPortLock(async () => create(await allocatePort(input.portBase ?? 18000)));
  try {
    await docker(['start', id]);
  } catch {
    // The container stays `created` with the engine's error: listed as TaskFailedToStart.
  }
  const [c] = await inspectContainers([id]);
  if (!c) throw new RunTaskError(`task ${name} disappeared right after start`);
  return taskFromInspect(c);
}

/**
 * Gives a task that started at a low CPU weight its serving weight (`docker update
 * --cpu-shares`), once it serves. A task already at it, or gone, is left as it is.
 */
export async function promoteTask(task: LocalTask): Promise<boolean> {
  if (task.servingCpuShares === undefined || task.cpuShares === task.servingCpuShares) return false;
  if (task.lastStatus !== 'RUNNING') return false;
  try {
    await docker(['update', '--cpu-shares', String(task.servingCpuShares), task.id]);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** The local EFS access points (recorded by `stepdeploy local up` from the template), by id. */
async function localAccessPoints(stateDir: string): Promise<Record<string, LocalAccessPoint>> {
  const items = await accessPointTable(stateDir).query();
  return Object.fromEntries(items.map((a) => [a.accessPointId, a]));
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** The last non-empty log line of a container that stopped on its own, read once and kept. */
async function exitRecord(stateDir: string, c: ContainerInspect): Promise<ExitRecord | undefined> {
  const dir = taskDir(stateDir, c.Name.replace(/^\//, ''));
  const path = join(dir, 'exit.json');
  const kept = await readJson<ExitRecord>(path);
  if (kept) return kept;
  if (!(await stat(dir).catch(() => undefined))) return undefined;
  const logs = await containerLogs(c.Id, 20).catch(() => '');
  const lastLine =
    logs
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1)
      ?.slice(0, 300) ?? '';
  const record = { lastLine };
  await writeFile(path, `${JSON.stringify(record)}\n`, { mode: 0o600 }).catch(() => undefined);
  return record;
}

/** Tasks of a service (all services when omitted), newest first; filter by revision/status/role. */
export async function listTasks(opts: {
  readonly stateDir: string;
  readonly service?: string;
  readonly revision?: number;
  readonly desiredStatus?: 'RUNNING' | 'STOPPED';
  /** `task` (the service's, the default) or a one-off's role (`trial`, `install`). */
  readonly role?: string;
}): Promise<LocalTask[]> {
  const filter: Record<string, string> = { [LABEL_ROLE]: opts.role ?? 'task' };
  if (opts.service) filter[LABEL_SERVICE] = opts.service;
  if (opts.revision !== undefined) filter[LABEL_REVISION] = String(opts.revision);
  const containers = await inspectContainers(await containersByLabel(filter));
  const tasks: LocalTask[] = [];
  for (const c of containers) {
    const name = c.Name.replace(/^\//, '');
    const stop = await readJson<StopRecord>(join(taskDir(opts.stateDir, name), 'stopped.json'));
    const exited = !c.State.Running && c.State.Status === 'exited' && !stop;
    tasks.push(taskFromInspect(c, stop, exited ? await exitRecord(opts.stateDir, c) : undefined));
  }
  return tasks
    .filter((t) => !opts.desiredStatus || t.desiredStatus === opts.desiredStatus)
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
}

/**
 * Stops a task like ECS StopTask, recording why: SIGTERM, then SIGKILL after the container's
 * stopTimeout from its task definition (or `timeoutSeconds` when given).
 */
export async function stopTask(
  stateDir: string,
  task: Pick<LocalTask, 'name'>,
  reason = 'Task stopped by user',
  timeoutSeconds?: number,
): Promise<void> {
  const dir = taskDir(stateDir, task.name);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const record: StopRecord = { reason, at: new Date().toISOString() };
  await writeFile(join(dir, 'stopped.json'), `${JSON.stringify(record)}\n`, { mode: 0o600 });
  await docker([
    'stop',
    ...(timeoutSeconds !== undefined ? ['-t', String(timeoutSeconds)] : []),
    task.name,
  ]);
}

/** Removes a task container (with its anonymous volumes) and its state (volume dirs, secret copies, records). */
export async function removeTask(stateDir: string, task: Pick<LocalTask, 'name'>): Promise<void> {
  await removeContainer(task.name);
  await rm(taskDir(stateDir, task.name), { recursive: true, force: true });
}
