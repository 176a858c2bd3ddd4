import { posix } from 'node:path';
import type {
  ContainerDefinition,
  RegisterTaskDefinitionCommandInput,
  TaskDefinition,
} from '@aws-sdk/client-ecs';
import type { LocalAccessPoint } from './application.ts';

/**
 * Fargate's semantics for a task definition, played by Docker: which fields Fargate refuses,
 * which the local runner cannot honour, and the `docker create` arguments plus host-side
 * preparation for the rest. Pure: no I/O here (local/tasks.ts does it).
 */

/** Task CPU units → the task memory sizes (MiB) Fargate accepts with them. */
export const FARGATE_CPU_MEMORY: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: [1024, 2048, 3072, 4096],
  1024: [2048, 3072, 4096, 5120, 6144, 7168, 8192],
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

/** ECS's container health check defaults (seconds) when the task definition leaves them out. */
export const ECS_HEALTH_CHECK_DEFAULTS = { interval: 30, timeout: 5, retries: 3, startPeriod: 0 };
/** Fargate's stop timeout when the container sets none (seconds); its maximum is 120. */
export const FARGATE_DEFAULT_STOP_TIMEOUT = 30;

/** Where the local runner puts secret files inside the container (`<NAME>_FILE` points here). */
export const SECRETS_DIR = '/run/secrets';

/**
 * A size as ECS converts it at registration: a plain number, or `<n> <unit>` (any case, space
 * optional) as n x 1024. Undefined when unset, NaN when unreadable. Pure.
 */
function ecsSize(value: string | number | undefined, unit: 'vcpu' | 'gb'): number | undefined {
  if (value === undefined || value === '') return undefined;
  const text = String(value).trim();
  const scaled = new RegExp(`^(\\d+(?:\\.\\d+)?)\\s*${unit}$`, 'i').exec(text);
  const n = scaled ? Number(scaled[1]) * 1024 : Number(text);
  return Number.isFinite(n) ? n : Number.NaN;
}

/** CPU units from `512`, `0.5 vCPU` or `1 vcpu`, as ECS converts them at registration. Pure. */
export function cpuUnits(value: string | number | undefined): number | undefined {
  return ecsSize(value, 'vcpu');
}

/** MiB from `1024`, `1 GB` or `2gb`, as ECS converts them at registration. Pure. */
export function memoryMiB(value: string | number | undefined): number | undefined {
  return ecsSize(value, 'gb');
}

const present = (v: unknown): boolean =>
  v !== undefined &&
  v !== null &&
  v !== false &&
  !(Array.isArray(v) && v.length === 0) &&
  !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);

type Td = RegisterTaskDefinitionCommandInput | TaskDefinition;
type Check = (value: unknown, td: Td) => string | undefined;

const ok: Check = () => undefined;
const fargateRefuses =
  (why: string): Check =>
  (v) =>
    present(v) ? `Fargate refuses it: ${why}` : undefined;
const runnerCannot =
  (why: string): Check =>
  (v) =>
    present(v) ? `the local runner cannot honour it: ${why}` : undefined;

/** Every task-level field of an ECS task definition and what Fargate and the runner do with it. */
const TASK_FIELDS: Record<string, Check> = {
  family: ok,
  // Read-only fields DescribeTaskDefinition returns; carried in stored revisions.
  taskDefinitionArn: ok,
  revision: ok,
  status: ok,
  registeredAt: ok,
  registeredBy: ok,
  deregisteredAt: ok,
  deleteRequestedAt: ok,
  requiresAttributes: ok,
  compatibilities: ok,
  tags: ok,
  // No AWS credentials exist locally; the runner itself pulls the image and reads the secrets.
  taskRoleArn: ok,
  executionRoleArn: ok,
  networkMode: (v) =>
    v === 'awsvpc' ? undefined : `Fargate requires awsvpc, got ${String(v ?? 'none')}`,
  requiresCompatibilities: (v) =>
    Array.isArray(v) && v.includes('FARGATE')
      ? undefined
      : `the local runner plays Fargate only: requiresCompatibilities must include FARGATE, got ${JSON.stringify(v ?? [])}`,
  cpu: ok, // checked with memory below
  memory: ok,
  containerDefinitions: (v) =>
    Array.isArray(v) && v.length === 1
      ? undefined
      : `the local runner runs one container per task, got ${Array.isArray(v) ? v.length : 0}`,
  volumes: ok, // checked per volume below
  placementConstraints: fargateRefuses('placement constraints are for EC2'),
  proxyConfiguration: runnerCannot('there is no App Mesh proxy locally'),
  inferenceAccelerators: fargateRefuses('Elastic Inference is not available on Fargate'),
  ipcMode: fargateRefuses('ipcMode is not supported on Fargate'),
  pidMode: (v) =>
    v === undefined || v === null || v === 'task'
      ? undefined
      : `Fargate supports pidMode task only, got ${String(v)}`,
  ephemeralStorage: runnerCannot('Docker gives no per-task disk quota here'),
  runtimePlatform: (v) => {
    const p = (v ?? {}) as { cpuArchitecture?: string; operatingSystemFamily?: string };
    if (p.operatingSystemFamily && p.operatingSystemFamily !== 'LINUX')
      return `the local runner plays Linux tasks only, got ${p.operatingSystemFamily}`;
    if (p.cpuArchitecture && !['X86_64', 'ARM64'].includes(p.cpuArchitecture))
      return `cpuArchitecture must be X86_64 or ARM64, got ${p.cpuArchitecture}`;
    return undefined;
  },
  enableFaultInjection: runnerCannot('there is no fault injection endpoint locally'),
};

const STOP_TIMEOUT_MAX = 120;

/** Every container field and what Fargate and the runner do with it. */
const CONTAINER_FIELDS: Record<string, Check> = {
  name: (v) => (typeof v === 'string' && v !== '' ? undefined : 'a container needs a name'),
  image: (v) => (typeof v === 'string' && v !== '' ? undefined : 'a container needs an image'),
  cpu: ok,
  memory: ok,
  memoryReservation: ok,
  essential: (v) =>
    v === false ? 'ECS needs at least one essential container; the only one is not' : undefined,
  entryPoint: ok,
  command: ok,
  workingDirectory: ok,
  environment: ok,
  secrets: ok,
  user: ok,
  readonlyRootFilesystem: ok,
  mountPoints: ok,
  portMappings: ok,
  healthCheck: ok,
  stopTimeout: (v) =>
    v === undefined ||
    v === null ||
    (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= STOP_TIMEOUT_MAX)
      ? undefined
      : `Fargate allows 0 to ${STOP_TIMEOUT_MAX} seconds, got ${String(v)}`,
  dockerLabels: (v) =>
    Object.keys((v ?? {}) as object).some((k) => k.startsWith('stepdeploy.'))
      ? 'labels starting with stepdeploy. are the runner’s own'
      : undefined,
  ulimits: ok,
  logConfiguration: (v) => {
    const l = v as { logDriver?: string; secretOptions?: unknown[] } | undefined;
    if (!l) return undefined;
    if (l.logDriver !== 'awslogs')
      return `the local runner plays the awslogs driver only (as Docker json-file logs), got ${l.logDriver}`;
    if (present(l.secretOptions))
      return 'the local runner cannot honour logConfiguration.secretOptions';
    return undefined;
  },
  linuxParameters: (v) => {
    const p = (v ?? {}) as {
      capabilities?: { add?: string[]; drop?: string[] };
      devices?: unknown[];
      sharedMemorySize?: number;
      tmpfs?: unknown[];
      maxSwap?: number;
      swappiness?: number;
      initProcessEnabled?: boolean;
    };
    const bad: string[] = [];
    const added = (p.capabilities?.add ?? []).filter((c) => c !== 'SYS_PTRACE');
    if (added.length > 0)
      bad.push(`capabilities.add ${added.join(', ')}: Fargate adds SYS_PTRACE only`);
    for (const field of ['devices', 'sharedMemorySize', 'tmpfs', 'maxSwap', 'swappiness'] as const)
      if (present(p[field])) bad.push(`${field}: Fargate does not support it`);
    const known = new Set([
      'capabilities',
      'devices',
      'sharedMemorySize',
      'tmpfs',
      'maxSwap',
      'swappiness',
      'initProcessEnabled',
    ]);
    for (const k of Object.keys(p)) if (!known.has(k)) bad.push(`${k}: unknown field`);
    return bad.length > 0 ? bad.join('; ') : undefined;
  },
  versionConsistency: ok, // local images are pinned by digest already
  links: fargateRefuses('links need the bridge network mode'),
  hostname: fargateRefuses('hostname is not supported with awsvpc'),
  dnsServers: fargateRefuses('dnsServers is not supported with awsvpc'),
  dnsSearchDomains: fargateRefuses('dnsSearchDomains is not supported with awsvpc'),
  extraHosts: fargateRefuses('extraHosts is not supported with awsvpc'),
  disableNetworking: fargateRefuses('disableNetworking is not supported with awsvpc'),
  privileged: fargateRefuses('privileged containers are not supported on Fargate'),
  dockerSecurityOptions: fargateRefuses('dockerSecurityOptions are not supported on Fargate'),
  resourceRequirements: fargateRefuses('GPUs are not available on Fargate'),
  credentialSpecs: fargateRefuses('credential specs are for Windows containers'),
  systemControls: runnerCannot('sysctls of the task network namespace need awsvpc'),
  environmentFiles: runnerCannot('there is no S3 locally'),
  repositoryCredentials: runnerCannot('the local registry needs no credentials'),
  firelensConfiguration: runnerCannot('there is no FireLens router locally'),
  dependsOn: runnerCannot('it runs one container per task'),
  volumesFrom: runnerCannot('it runs one container per task'),
  startTimeout: runnerCannot('it has no container dependencies to wait for'),
  interactive: runnerCannot('tasks run detached'),
  pseudoTerminal: runnerCannot('tasks run detached'),
  restartPolicy: (v) =>
    (v as { enabled?: boolean } | undefined)?.enabled
      ? 'the local runner cannot honour container restart policies'
      : undefined,
};

const HEALTH_RANGES = {
  interval: [5, 300],
  timeout: [2, 60],
  retries: [1, 10],
  startPeriod: [0, 300],
} as const;

/**
 * What is wrong with a task definition for Fargate as the local runner plays it: every field
 * Fargate would refuse, or the runner cannot honour, or does not know, one line each naming the
 * field (`containerDefinitions[0].privileged: ...`). Empty when it can run. Pure.
 */
export function fargateProblems(td: Td): string[] {
  const problems: string[] = [];
  const add = (field: string, why: string | undefined) => {
    if (why) problems.push(`${field}: ${why}`);
  };
  for (const [k, v] of Object.entries(td)) {
    const check = TASK_FIELDS[k];
    if (!check) add(k, present(v) ? 'unknown task definition field' : undefined);
    else add(k, check(v, td));
  }
  if (!('networkMode' in td)) add('networkMode', TASK_FIELDS.networkMode?.(undefined, td));
  if (!('requiresCompatibilities' in td))
    add('requiresCompatibilities', TASK_FIELDS.requiresCompatibilities?.(undefined, td));

  // cpu and memory: both required at task level, in Fargate's table.
  const cpu = cpuUnits(td.cpu);
  const memory = memoryMiB(td.memory);
  if (cpu === undefined || memory === undefined)
    add('cpu/memory', 'Fargate requires task-level cpu and memory');
  else if (!FARGATE_CPU_MEMORY[cpu])
    add('cpu', `Fargate has no ${td.cpu} CPU size (${Object.keys(FARGATE_CPU_MEMORY).join(', ')})`);
  else if (!FARGATE_CPU_MEMORY[cpu]?.includes(memory))
    add(
      'memory',
      `Fargate has no ${td.memory} MiB size for cpu ${cpu} (it takes ${describeSizes(FARGATE_CPU_MEMORY[cpu] ?? [])})`,
    );

  // Volumes: host-less bind mounts and EFS only.
  const volumes = new Map<string, Record<string, unknown>>();
  (td.volumes ?? []).forEach((v, i) => {
    const at = `volumes[${i}]`;
    if (!v.name) add(`${at}.name`, 'a volume needs a name');
    else if (volumes.has(v.name)) add(`${at}.name`, `volume ${v.name} is defined twice`);
    else volumes.set(v.name, v as Record<string, unknown>);
    for (const [k, value] of Object.entries(v)) {
      if (k === 'name') continue;
      if (k === 'host') {
        if (present((value as { sourcePath?: string } | undefined)?.sourcePath))
          add(`${at}.host.sourcePath`, 'Fargate refuses host paths');
      } else if (k === 'efsVolumeConfiguration') {
        const efs = value as {
          fileSystemId?: string;
          rootDirectory?: string;
          authorizationConfig?: { accessPointId?: string; iam?: string };
          transitEncryption?: string;
          transitEncryptionPort?: number;
        };
        if (!efs?.fileSystemId) add(`${at}.efsVolumeConfiguration.fileSystemId`, 'required');
        if (
          efs?.authorizationConfig?.accessPointId &&
          efs.rootDirectory !== undefined &&
          efs.rootDirectory !== '/'
        )
          add(
            `${at}.efsVolumeConfiguration.rootDirectory`,
            'ECS refuses a root directory other than / with an access point',
          );
        if (efs?.authorizationConfig?.iam === 'ENABLED' && efs.transitEncryption !== 'ENABLED')
          add(
            `${at}.efsVolumeConfiguration.transitEncryption`,
            'ECS requires transit encryption with IAM authorization',
          );
      } else if (k === 'dockerVolumeConfiguration')
        add(`${at}.${k}`, present(value) ? 'Fargate refuses Docker volume drivers' : undefined);
      else if (k === 'fsxWindowsFileServerVolumeConfiguration')
        add(
          `${at}.${k}`,
          present(value) ? 'Fargate Linux tasks cannot mount FSx for Windows' : undefined,
        );
      else if (k === 'configuredAtLaunch')
        add(
          `${at}.${k}`,
          value ? 'the local runner cannot honour EBS volumes configured at launch' : undefined,
        );
      else add(`${at}.${k}`, present(value) ? 'unknown volume field' : undefined);
    }
  });

  (td.containerDefinitions ?? []).forEach((c, i) => {
    const at = `containerDefinitions[${i}]`;
    for (const [k, v] of Object.entries(c)) {
      const check = CONTAINER_FIELDS[k];
      if (!check) add(`${at}.${k}`, present(v) ? 'unknown container field' : undefined);
      else add(`${at}.${k}`, check(v, td));
    }
    if (!('name' in c)) add(`${at}.name`, 'a container needs a name');
    if (!('image' in c)) add(`${at}.image`, 'a container needs an image');
    containerProblems(c, at, { cpu, memory, volumes }).forEach((p) => {
      problems.push(p);
    });
  });
  return problems;
}

function describeSizes(sizes: readonly number[]): string {
  if (sizes.length <= 7) return sizes.join(', ');
  return `${sizes[0]} to ${sizes.at(-1)} in steps of ${(sizes[1] ?? 0) - (sizes[0] ?? 0)}`;
}

function containerProblems(
  c: ContainerDefinition,
  at: string,
  task: {
    cpu: number | undefined;
    memory: number | undefined;
    volumes: Map<string, Record<string, unknown>>;
  },
): string[] {
  const out: string[] = [];
  if (c.cpu !== undefined && task.cpu !== undefined && c.cpu > task.cpu)
    out.push(`${at}.cpu: ${c.cpu} is more than the task's ${task.cpu}`);
  for (const field of ['memory', 'memoryReservation'] as const) {
    const v = c[field];
    if (v !== undefined && task.memory !== undefined && v > task.memory)
      out.push(`${at}.${field}: ${v} MiB is more than the task's ${task.memory} MiB`);
  }
  if (c.memory !== undefined && c.memoryReservation !== undefined && c.memoryReservation > c.memory)
    out.push(`${at}.memoryReservation: more than the container's memory`);
  const mappings = c.portMappings ?? [];
  if (mappings.length > 1)
    out.push(
      `${at}.portMappings: the local runner gives each task one port on 127.0.0.1, got ${mappings.length} mappings`,
    );
  mappings.forEach((m, j) => {
    const pat = `${at}.portMappings[${j}]`;
    if (m.containerPortRange)
      out.push(`${pat}.containerPortRange: the local runner cannot honour port ranges`);
    if (!Number.isInteger(m.containerPort)) out.push(`${pat}.containerPort: required`);
    if (m.protocol && m.protocol !== 'tcp')
      out.push(`${pat}.protocol: the local runner plays tcp only, got ${m.protocol}`);
    if (m.hostPort !== undefined && m.hostPort !== m.containerPort)
      out.push(`${pat}.hostPort: with awsvpc it must equal containerPort or be left out`);
  });
  (c.mountPoints ?? []).forEach((m, j) => {
    const pat = `${at}.mountPoints[${j}]`;
    if (!m.sourceVolume || !task.volumes.has(m.sourceVolume))
      out.push(`${pat}.sourceVolume: no volume named ${m.sourceVolume} in the task definition`);
    if (!m.containerPath?.startsWith('/')) out.push(`${pat}.containerPath: must be absolute`);
  });
  const paths = (c.mountPoints ?? []).map((m) => m.containerPath);
  const dup = paths.find((p, j) => paths.indexOf(p) !== j);
  if (dup) out.push(`${at}.mountPoints: ${dup} is mounted twice`);
  (c.secrets ?? []).forEach((s, j) => {
    if (!s.name || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(s.name))
      out.push(`${at}.secrets[${j}].name: not a variable name: ${s.name}`);
    if (!s.valueFrom?.startsWith('/'))
      out.push(
        `${at}.secrets[${j}].valueFrom: the local runner reads secrets from local files (an absolute path), got ${s.valueFrom}`,
      );
  });
  (c.environment ?? []).forEach((e, j) => {
    if (!e.name || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(e.name))
      out.push(`${at}.environment[${j}].name: not a variable name: ${e.name}`);
  });
  const hc = c.healthCheck;
  if (hc) {
    const cmd = hc.command ?? [];
    if (!['CMD', 'CMD-SHELL', 'NONE'].includes(cmd[0] ?? ''))
      out.push(`${at}.healthCheck.command: must start with CMD, CMD-SHELL or NONE`);
    for (const [k, [min, max]] of Object.entries(HEALTH_RANGES)) {
      const v = hc[k as keyof typeof HEALTH_RANGES];
      if (v !== undefined && (!Number.isInteger(v) || v < min || v > max))
        out.push(`${at}.healthCheck.${k}: ECS allows ${min} to ${max}, got ${v}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The run: docker create arguments and host-side preparation

/** What `docker image inspect` tells about the image the runner needs. */
export interface ImageInfo {
  /** `.Config.User` ('' = root). */
  readonly user: string;
  /** Paths the image declares as VOLUME (`.Config.Volumes` keys). */
  readonly volumes: readonly string[];
  /** `.Architecture` (amd64, arm64). */
  readonly architecture: string;
  readonly os: string;
}

/** Where and how one task runs locally (decided by the I/O layer). */
export interface RunPlace {
  /** Container name. */
  readonly name: string;
  readonly service: string;
  /** Host port the container listens on (its only port mapping). */
  readonly port?: number;
  /** Labels for the container (ours: service, revision, ...). */
  readonly labels: Readonly<Record<string, string>>;
  /** Host directory of this task (empty volume dirs and secret copies go below it). */
  readonly taskDir: string;
  /** uid:gid the secret copies are owned by (the container's user). */
  readonly secretOwner: { readonly uid: number; readonly gid: number };
  /** The local EFS access points by id. */
  readonly accessPoints: Readonly<Record<string, LocalAccessPoint>>;
  readonly timeFactor: number;
  /** Replaces the container's command (one-off tasks, tests). */
  readonly command?: readonly string[];
  /**
   * CPU weight (`--cpu-shares`) the container starts with, instead of its serving weight
   * ({@link servingCpuShares}), until the scheduler sees its target healthy. Local only: here
   * the tasks share the machine's cores, on Fargate each task has its own.
   */
  readonly startingCpuShares?: number;
}

/** Docker's CPU weight when none is set. */
export const DEFAULT_CPU_SHARES = 1024;

/** The CPU weight a task serves at: the container's cpu units, else Docker's default. Pure. */
export function servingCpuShares(c: Pick<ContainerDefinition, 'cpu'> | undefined): number {
  return c?.cpu ? Math.max(2, c.cpu) : DEFAULT_CPU_SHARES;
}

/** Host-side work before `docker create`. */
export type Preparation =
  | {
      /** A fresh empty directory: what Fargate mounts for a host-less volume. */
      readonly kind: 'empty-dir';
      readonly hostPath: string;
      readonly uid: number;
      readonly gid: number;
      readonly mode: number;
    }
  | {
      /** The service's shared Docker volume for an EFS file system. */
      readonly kind: 'efs-volume';
      readonly volume: string;
      readonly labels: Readonly<Record<string, string>>;
      /** Owner and mode of its root when it is created (the access point's creation info). */
      readonly root?: { readonly uid: number; readonly gid: number; readonly mode: number };
    }
  | {
      /** A read-only copy of a secret file for the container's user (mode 400). */
      readonly kind: 'secret-copy';
      readonly from: string;
      readonly to: string;
      readonly uid: number;
      readonly gid: number;
    };

/** The container health check as the runner applies it (already scaled). */
export interface ScaledHealthCheck {
  readonly shell: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly startPeriodMs: number;
}

/** Everything runTask needs to start one task. */
export interface FargateRun {
  /** Arguments after `docker create`: options, the image and its command. */
  readonly args: readonly string[];
  readonly prepare: readonly Preparation[];
  /** Seconds `docker stop` waits before SIGKILL (the container's stopTimeout). */
  readonly stopTimeoutSeconds: number;
  readonly healthCheck?: ScaledHealthCheck;
  /** Where local mode deviates from Fargate for this task, one line each. */
  readonly deviations: readonly string[];
}

const ARCH: Record<string, string> = { X86_64: 'amd64', ARM64: 'arm64' };

/** Quotes one word for /bin/sh. Pure. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The container's health check for Docker: CMD-SHELL as is, CMD quoted into a shell line, the
 * timings scaled by the time factor, and the container port (on 127.0.0.1/localhost) replaced
 * by the task's host port. Undefined when there is none (or NONE). Pure.
 */
export function scaledHealthCheck(
  c: Pick<ContainerDefinition, 'healthCheck' | 'portMappings'>,
  timeFactor: number,
  hostPort: number | undefined,
): ScaledHealthCheck | undefined {
  const hc = c.healthCheck;
  const [kind, ...rest] = hc?.command ?? [];
  if (!hc || kind === 'NONE' || kind === undefined) return undefined;
  let shell = kind === 'CMD-SHELL' ? rest.join(' ') : rest.map(shellQuote).join(' ');
  const containerPort = c.portMappings?.[0]?.containerPort;
  if (hostPort !== undefined && containerPort !== undefined && hostPort !== containerPort)
    shell = shell.replace(
      new RegExp(`\\b(127\\.0\\.0\\.1|localhost|0\\.0\\.0\\.0):${containerPort}\\b`, 'g'),
      `$1:${hostPort}`,
    );
  const ms = (s: number) => Math.max(1, Math.round(s * 1000 * timeFactor));
  const d = ECS_HEALTH_CHECK_DEFAULTS;
  return {
    shell,
    intervalMs: ms(hc.interval ?? d.interval),
    timeoutMs: ms(hc.timeout ?? d.timeout),
    retries: hc.retries ?? d.retries,
    startPeriodMs: (hc.startPeriod ?? d.startPeriod) === 0 ? 0 : ms(hc.startPeriod ?? 0),
  };
}

/** Docker's name of the uploads-like volume an EFS file system plays for a service. Pure. */
export function efsVolumeName(service: string, volume: string): string {
  return `stepdeploy-${service}-${volume.toLowerCase().replace(/[^a-z0-9_.-]/g, '-')}`;
}

/** The file name of a secret copy inside the task's secrets dir. Pure. */
export function secretFileName(envName: string): string {
  return envName.toLowerCase();
}

/** Thrown by {@link fargateDockerArgs} for a task definition it refuses. */
export class FargateRefusedError extends Error {
  readonly problems: readonly string[];
  constructor(subject: string, problems: readonly string[]) {
    super(`${subject} cannot run as a Fargate task: ${problems.join('; ')}`);
    this.name = 'FargateRefusedError';
    this.problems = problems;
  }
}

/**
 * Translates a task definition into one Docker container with Fargate's semantics. Pure.
 *
 * | task definition                   | Docker                                                     |
 * | --------------------------------- | ---------------------------------------------------------- |
 * | cpu (task)                        | `--cpus` cpu/1024                                          |
 * | memory (task), container memory   | `--memory` and `--memory-swap` equal (no swap) = the lower |
 * | container memoryReservation / cpu | `--memory-reservation` / `--cpu-shares`                    |
 * | (local) a task not yet serving    | `--cpu-shares` startingCpuShares until healthy             |
 * | user, readonlyRootFilesystem      | `--user`, `--read-only`                                    |
 * | workingDirectory, entryPoint      | `-w`, `--entrypoint` (rest of entryPoint before command)   |
 * | host-less volume, image VOLUME    | a fresh anonymous Docker volume (copies the image's dir)   |
 * | host-less volume, no image VOLUME | bind mount of a fresh empty dir, root:root 0755            |
 * | efsVolumeConfiguration            | the service's shared Docker volume, root owned per the     |
 * |                                   | access point's creationInfo, never filled from the image   |
 * | healthCheck                       | `--health-*`, timings × time factor                        |
 * | stopTimeout (default 30)          | `--stop-timeout`                                           |
 * | environment                       | `--env`; PORT and BIND_ADDRESS set to the task's port      |
 * | secrets                           | read-only file mounts + `<NAME>_FILE` (never env values)   |
 * | portMappings (one)                | the task's own host port (host network, 127.0.0.1)         |
 * | logConfiguration awslogs          | json-file, with its mode and max-buffer-size               |
 * | dockerLabels, ulimits             | `--label`, `--ulimit`                                      |
 * | linuxParameters                   | `--init`, `--cap-drop`, `--cap-add SYS_PTRACE`             |
 *
 * Everything else is refused by {@link fargateProblems}.
 */
export function fargateDockerArgs(td: Td, image: ImageInfo, place: RunPlace): FargateRun {
  const subject = `task definition ${td.family ?? '?'}:${'revision' in td ? (td.revision ?? '?') : '?'}`;
  const problems = fargateProblems(td);
  const arch = td.runtimePlatform?.cpuArchitecture;
  if (arch && ARCH[arch] && image.architecture && ARCH[arch] !== image.architecture)
    problems.push(
      `runtimePlatform.cpuArchitecture: ${arch}, but the image is ${image.os}/${image.architecture} (CannotPullContainerError on Fargate)`,
    );
  if (image.os && image.os !== 'linux')
    problems.push(`image: ${image.os} images cannot run on Linux Fargate`);
  if (problems.length > 0) throw new FargateRefusedError(subject, problems);
  const c = td.containerDefinitions?.[0] as ContainerDefinition;
  const args: string[] = ['--name', place.name, '--network', 'host'];
  const prepare: Preparation[] = [];
  const deviations: string[] = ['network: host network on 127.0.0.1 instead of an awsvpc ENI'];
  for (const [k, v] of Object.entries({ ...(c.dockerLabels ?? {}), ...place.labels }))
    args.push('--label', `${k}=${v}`);

  // CPU and memory: the task's share, as Fargate's cgroup gives it; no swap.
  const cpu = cpuUnits(td.cpu) as number;
  const taskMemory = memoryMiB(td.memory) as number;
  args.push('--cpus', String(cpu / 1024));
  const memory = Math.min(taskMemory, c.memory ?? taskMemory);
  args.push('--memory', `${memory}m`, '--memory-swap', `${memory}m`);
  if (c.memoryReservation) args.push('--memory-reservation', `${c.memoryReservation}m`);
  if (place.startingCpuShares !== undefined) {
    args.push('--cpu-shares', String(place.startingCpuShares));
    deviations.push(
      `cpu: CPU weight ${place.startingCpuShares} until the target is healthy, then ${servingCpuShares(c)} (the tasks share this machine's cores; on Fargate a starting task takes no CPU from a serving one)`,
    );
  } else if (c.cpu) args.push('--cpu-shares', String(servingCpuShares(c)));

  if (c.user) args.push('--user', c.user);
  if (c.readonlyRootFilesystem) args.push('--read-only');
  if (c.workingDirectory) args.push('--workdir', c.workingDirectory);
  const [entry, ...entryRest] = c.entryPoint ?? [];
  if (entry !== undefined) args.push('--entrypoint', entry);
  if (c.linuxParameters?.initProcessEnabled) args.push('--init');
  for (const cap of c.linuxParameters?.capabilities?.drop ?? []) args.push('--cap-drop', cap);
  for (const cap of c.linuxParameters?.capabilities?.add ?? []) args.push('--cap-add', cap);
  for (const u of c.ulimits ?? []) args.push('--ulimit', `${u.name}=${u.softLimit}:${u.hardLimit}`);

  // Volumes, the way Fargate mounts them.
  const volumes = new Map((td.volumes ?? []).map((v) => [v.name as string, v]));
  const declared = new Set(image.volumes.map((p) => posix.normalize(p).replace(/\/$/, '') || '/'));
  for (const m of c.mountPoints ?? []) {
    const v = volumes.get(m.sourceVolume as string);
    const path = posix.normalize(m.containerPath as string).replace(/\/$/, '') || '/';
    const ro = m.readOnly ? ',readonly' : '';
    if (v?.efsVolumeConfiguration) {
      const efs = v.efsVolumeConfiguration;
      const apId = efs.authorizationConfig?.accessPointId;
      const ap = apId ? place.accessPoints[apId] : undefined;
      if (apId && !ap)
        throw new FargateRefusedError(subject, [
          `volumes[${v.name}].efsVolumeConfiguration.authorizationConfig.accessPointId: no local access point ${apId} (stepdeploy local up records the stack's)`,
        ]);
      const volume = efsVolumeName(place.service, v.name as string);
      const root =
        ap?.creationInfo ?? (ap?.posixUser ? { ...ap.posixUser, mode: 0o755 } : undefined);
      prepare.push({
        kind: 'efs-volume',
        volume,
        labels: {
          'stepdeploy.managed': 'true',
          'stepdeploy.service': place.service,
          'stepdeploy.role': 'uploads',
        },
        ...(root ? { root } : {}),
      });
      args.push('--mount', `type=volume,src=${volume},dst=${path},volume-nocopy${ro}`);
      const uid = /^(\d+)/.exec(c.user ?? image.user)?.[1];
      if (ap?.posixUser && uid !== String(ap.posixUser.uid))
        deviations.push(
          `${path}: EFS writes as the access point's uid ${ap.posixUser.uid}; the local volume keeps the container's own uid`,
        );
    } else if (declared.has(path)) {
      // The image declares it a VOLUME: Docker fills a fresh volume from the image, as Fargate does.
      args.push('--mount', `type=volume,dst=${path}${ro}`);
    } else {
      const hostPath = posix.join(place.taskDir, 'volumes', v?.name as string);
      if (!prepare.some((p) => p.kind === 'empty-dir' && p.hostPath === hostPath))
        prepare.push({ kind: 'empty-dir', hostPath, uid: 0, gid: 0, mode: 0o755 });
      args.push('--mount', `type=bind,src=${hostPath},dst=${path}${ro}`);
    }
  }

  // Environment, then the runner's port, then secrets as read-only files.
  const env = new Map<string, string>();
  for (const e of c.environment ?? []) env.set(e.name as string, e.value ?? '');
  const containerPort = c.portMappings?.[0]?.containerPort;
  if (containerPort !== undefined && place.port !== undefined) {
    env.set('PORT', String(place.port));
    env.set('BIND_ADDRESS', '127.0.0.1');
    deviations.push(
      `port: the container listens on 127.0.0.1:${place.port} (PORT, BIND_ADDRESS) instead of its own IP's :${containerPort}`,
    );
  }
  for (const s of c.secrets ?? []) {
    const file = secretFileName(s.name as string);
    const to = posix.join(place.taskDir, 'secrets', file);
    prepare.push({ kind: 'secret-copy', from: s.valueFrom as string, to, ...place.secretOwner });
    const inContainer = `${SECRETS_DIR}/${file}`;
    args.push('--mount', `type=bind,src=${to},dst=${inContainer},readonly`);
    env.set(`${s.name}_FILE`, inContainer);
  }
  for (const [k, v] of env) args.push('--env', `${k}=${v}`);

  const healthCheck = scaledHealthCheck(c, place.timeFactor, place.port);
  if (healthCheck) {
    args.push(
      '--health-cmd',
      healthCheck.shell,
      '--health-interval',
      `${healthCheck.intervalMs}ms`,
      '--health-timeout',
      `${healthCheck.timeoutMs}ms`,
      '--health-retries',
      String(healthCheck.retries),
      '--health-start-period',
      `${healthCheck.startPeriodMs}ms`,
    );
    deviations.push(`health check: timings x ${place.timeFactor}`);
  } else if (c.healthCheck?.command?.[0] === 'NONE') args.push('--no-healthcheck');

  const stopTimeoutSeconds = c.stopTimeout ?? FARGATE_DEFAULT_STOP_TIMEOUT;
  args.push('--stop-timeout', String(stopTimeoutSeconds));

  if (c.logConfiguration?.logDriver === 'awslogs') {
    args.push('--log-driver', 'json-file');
    const opts = c.logConfiguration.options ?? {};
    if (opts.mode) args.push('--log-opt', `mode=${opts.mode}`);
    if (opts['max-buffer-size'])
      args.push('--log-opt', `max-buffer-size=${opts['max-buffer-size']}`);
    deviations.push('logs: awslogs plays as Docker json-file logs (docker logs)');
  }

  args.push(c.image as string);
  args.push(...entryRest, ...(place.command ?? c.command ?? []));
  return { args, prepare, stopTimeoutSeconds, ...(healthCheck ? { healthCheck } : {}), deviations };
}

/** Docker's health status as ECS reports a container's (and a one-container task's). Pure. */
export function ecsHealthStatus(
  dockerStatus: string | undefined,
  running: boolean,
): 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN' {
  if (!running) return 'UNKNOWN';
  if (dockerStatus === 'healthy') return 'HEALTHY';
  if (dockerStatus === 'unhealthy') return 'UNHEALTHY';
  return 'UNKNOWN';
}
