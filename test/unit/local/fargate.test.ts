import type { RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { taskDefinitionRegistration } from '#local/application.ts';
import {
  cpuUnits,
  ecsHealthStatus,
  FargateRefusedError,
  fargateDockerArgs,
  fargateProblems,
  type ImageInfo,
  memoryMiB,
  type RunPlace,
  scaledHealthCheck,
  servingCpuShares,
} from '#local/fargate.ts';
import { synthesizedApplication } from './fixtures/application.ts';

/** The synthesized application's task definition as local mode registers it (revision 1). */
function synthesized(): RegisterTaskDefinitionCommandInput & { revision: number } {
  const td = taskDefinitionRegistration(
    synthesizedApplication(),
    {
      family: 'stepdeploy-wordpress',
      database: { host: '127.0.0.1', port: 13306 },
      loadBalancerAddress: '127.0.0.1:8080',
      secretFile: (secret, key) => `/st/secrets/${secret.database ? 'db' : 'salts'}-${key}`,
    },
    { containerName: 'wordpress', uri: `127.0.0.1:5000/wp@sha256:${'b'.repeat(64)}` },
  );
  return { ...td, revision: 1 };
}

/** A minimal Fargate task definition; `container` and `task` fields override its parts. */
function minimal(
  task: Record<string, unknown> = {},
  container: Record<string, unknown> = {},
): RegisterTaskDefinitionCommandInput {
  return {
    family: 'f',
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '256',
    memory: '512',
    containerDefinitions: [{ name: 'web', image: 'img', ...container }],
    ...task,
  } as RegisterTaskDefinitionCommandInput;
}

const IMAGE: ImageInfo = { user: 'www-data', volumes: [], architecture: 'amd64', os: 'linux' };
const AP_ID = 'stepdeploy-application-uploadsuploadsaccesspoint39dc1ad2';
const PLACE: RunPlace = {
  name: 'stepdeploy-wp-r1-abc',
  service: 'wp',
  port: 18001,
  labels: { 'stepdeploy.role': 'task' },
  taskDir: '/st/tasks/stepdeploy-wp-r1-abc',
  secretOwner: { uid: 33, gid: 33 },
  accessPoints: {
    [AP_ID]: {
      accessPointId: AP_ID,
      fileSystemId: 'fs',
      posixUser: { uid: 33, gid: 33 },
      creationInfo: { uid: 33, gid: 33, mode: 0o755 },
      path: '/uploads',
    },
  },
  timeFactor: 0.3,
};

/** `--flag value` pairs of an argument list, every value of a repeated flag kept. */
function flags(args: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (!a.startsWith('--')) continue;
    const next = args[i + 1];
    const value = next !== undefined && !next.startsWith('--') ? next : '';
    out.set(a, [...(out.get(a) ?? []), value]);
  }
  return out;
}

describe('cpuUnits and memoryMiB (as ECS converts them at registration)', () => {
  it.each([
    ['512', 512],
    ['0.5 vCPU', 512],
    ['1 vcpu', 1024],
    [undefined, undefined],
  ])('cpu %j is %j units', (raw, want) => {
    expect(cpuUnits(raw)).toBe(want);
  });
  it.each([
    ['1024', 1024],
    ['2 GB', 2048],
    ['0.5gb', 512],
  ])('memory %j is %j MiB', (raw, want) => {
    expect(memoryMiB(raw)).toBe(want);
  });
});

describe('fargateProblems', () => {
  it('accepts the synthesized task definition as local mode registers it', () => {
    // Act / Assess
    expect(fargateProblems(synthesized())).toEqual([]);
  });

  it.each([
    ['256', '512', true],
    ['256', '2048', true],
    ['256', '1536', false],
    ['512', '1024', true],
    ['512', '4096', true],
    ['512', '512', false],
    ['1024', '8192', true],
    ['1024', '9216', false],
    ['2048', '16384', true],
    ['4096', '30720', true],
    ['4096', '31744', false],
    ['8192', '20480', true],
    ['8192', '18432', false],
    ['16384', '122880', true],
    ['384', '1024', false],
  ])('cpu %s with memory %s is valid on Fargate: %s', (cpu, memory, valid) => {
    // Act
    const problems = fargateProblems(minimal({ cpu, memory }));

    // Assess
    expect(problems.length === 0).toBe(valid);
  });

  it.each([
    [{ networkMode: 'bridge' }, {}, /^networkMode: Fargate requires awsvpc, got bridge$/],
    [{ networkMode: undefined }, {}, /^networkMode: Fargate requires awsvpc/],
    [
      { requiresCompatibilities: ['EC2'] },
      {},
      /^requiresCompatibilities: the local runner plays Fargate only/,
    ],
    [{ cpu: undefined }, {}, /^cpu\/memory: Fargate requires task-level cpu and memory/],
    [
      { placementConstraints: [{ type: 'memberOf' }] },
      {},
      /^placementConstraints: Fargate refuses it/,
    ],
    [{ ipcMode: 'host' }, {}, /^ipcMode: Fargate refuses it/],
    [{ pidMode: 'host' }, {}, /^pidMode: Fargate supports pidMode task only/],
    [
      { ephemeralStorage: { sizeInGiB: 50 } },
      {},
      /^ephemeralStorage: the local runner cannot honour it/,
    ],
    [
      { proxyConfiguration: { containerName: 'x' } },
      {},
      /^proxyConfiguration: the local runner cannot honour it/,
    ],
    [
      { runtimePlatform: { operatingSystemFamily: 'WINDOWS_SERVER_2022_CORE' } },
      {},
      /^runtimePlatform: the local runner plays Linux tasks only/,
    ],
    [{ somethingNew: true }, {}, /^somethingNew: unknown task definition field$/],
    [
      { volumes: [{ name: 'v', host: { sourcePath: '/data' } }] },
      {},
      /^volumes\[0\]\.host\.sourcePath: Fargate refuses host paths$/,
    ],
    [
      { volumes: [{ name: 'v', dockerVolumeConfiguration: { driver: 'local' } }] },
      {},
      /^volumes\[0\]\.dockerVolumeConfiguration: Fargate refuses Docker volume drivers$/,
    ],
    [
      { volumes: [{ name: 'v', configuredAtLaunch: true }] },
      {},
      /^volumes\[0\]\.configuredAtLaunch: the local runner cannot honour EBS volumes/,
    ],
    [
      {
        volumes: [
          {
            name: 'v',
            efsVolumeConfiguration: { fileSystemId: 'fs', authorizationConfig: { iam: 'ENABLED' } },
          },
        ],
      },
      {},
      /transitEncryption: ECS requires transit encryption with IAM/,
    ],
    [
      {
        containerDefinitions: [
          { name: 'a', image: 'i' },
          { name: 'b', image: 'i' },
        ],
      },
      {},
      /^containerDefinitions: the local runner runs one container per task, got 2$/,
    ],
    [{}, { privileged: true }, /^containerDefinitions\[0\]\.privileged: Fargate refuses it/],
    [{}, { links: ['db'] }, /^containerDefinitions\[0\]\.links: Fargate refuses it/],
    [{}, { hostname: 'web' }, /^containerDefinitions\[0\]\.hostname: Fargate refuses it/],
    [
      {},
      { dependsOn: [{ containerName: 'x', condition: 'START' }] },
      /^containerDefinitions\[0\]\.dependsOn: the local runner cannot honour it/,
    ],
    [
      {},
      { linuxParameters: { capabilities: { add: ['NET_ADMIN'] } } },
      /^containerDefinitions\[0\]\.linuxParameters: capabilities\.add NET_ADMIN: Fargate adds SYS_PTRACE only$/,
    ],
    [
      {},
      { linuxParameters: { sharedMemorySize: 64 } },
      /linuxParameters: sharedMemorySize: Fargate does not support it/,
    ],
    [
      {},
      { logConfiguration: { logDriver: 'splunk' } },
      /logConfiguration: the local runner plays the awslogs driver only/,
    ],
    [{}, { stopTimeout: 300 }, /stopTimeout: Fargate allows 0 to 120 seconds, got 300/],
    [{}, { essential: false }, /essential: ECS needs at least one essential container/],
    [
      {},
      { memory: 1024 },
      /containerDefinitions\[0\]\.memory: 1024 MiB is more than the task's 512 MiB/,
    ],
    [
      {},
      { portMappings: [{ containerPort: 80 }, { containerPort: 443 }] },
      /portMappings: the local runner gives each task one port/,
    ],
    [
      {},
      { portMappings: [{ containerPort: 80, hostPort: 8080 }] },
      /portMappings\[0\]\.hostPort: with awsvpc it must equal containerPort/,
    ],
    [
      {},
      { portMappings: [{ containerPort: 53, protocol: 'udp' }] },
      /portMappings\[0\]\.protocol: the local runner plays tcp only/,
    ],
    [
      {},
      { mountPoints: [{ sourceVolume: 'nope', containerPath: '/x' }] },
      /mountPoints\[0\]\.sourceVolume: no volume named nope/,
    ],
    [
      {},
      { secrets: [{ name: 'P', valueFrom: 'arn:aws:secretsmanager:x' }] },
      /secrets\[0\]\.valueFrom: the local runner reads secrets from local files/,
    ],
    [
      {},
      { healthCheck: { command: ['CMD-SHELL', 'true'], interval: 2 } },
      /healthCheck\.interval: ECS allows 5 to 300, got 2/,
    ],
    [
      {},
      { healthCheck: { command: ['true'] } },
      /healthCheck\.command: must start with CMD, CMD-SHELL or NONE/,
    ],
    [
      {},
      { dockerLabels: { 'stepdeploy.port': '1' } },
      /dockerLabels: labels starting with stepdeploy\./,
    ],
    [{}, { gpuCount: 1 }, /^containerDefinitions\[0\]\.gpuCount: unknown container field$/],
  ])('refuses %j %j, naming the field', (task, container, message) => {
    // Act
    const problems = fargateProblems(minimal(task, container));

    // Assess
    expect(problems.some((p) => message.test(p))).toBe(true);
  });

  it('accepts unset and false values of fields it would refuse when set', () => {
    // Prepare
    const td = minimal(
      { placementConstraints: [], ipcMode: undefined, pidMode: 'task' },
      {
        privileged: false,
        links: [],
        interactive: false,
        linuxParameters: {
          initProcessEnabled: true,
          capabilities: { add: ['SYS_PTRACE'], drop: ['ALL'] },
        },
      },
    );

    // Act / Assess
    expect(fargateProblems(td)).toEqual([]);
  });
});

describe('fargateDockerArgs (the synthesized task definition)', () => {
  it('limits CPU and memory as Fargate does (cpu 512 = half a CPU), with no swap', () => {
    // Act
    const run = fargateDockerArgs(synthesized(), IMAGE, PLACE);
    const f = flags(run.args);

    // Assess
    expect(f.get('--cpus')).toEqual(['0.5']);
    expect(f.get('--memory')).toEqual(['1024m']);
    expect(f.get('--memory-swap')).toEqual(['1024m']);
    expect(f.has('--cpu-shares')).toBe(false);
  });

  it('starts a task at its starting CPU weight, saying so, with its CPU limit unchanged', () => {
    // Act
    const run = fargateDockerArgs(synthesized(), IMAGE, { ...PLACE, startingCpuShares: 2 });
    const f = flags(run.args);

    // Assess
    expect(f.get('--cpu-shares')).toEqual(['2']);
    expect(f.get('--cpus')).toEqual(['0.5']);
    expect(run.deviations.join('\n')).toMatch(
      /CPU weight 2 until the target is healthy, then 1024/,
    );
  });

  it.each([
    [{}, 1024],
    [{ cpu: 128 }, 128],
    [{ cpu: 1 }, 2],
  ])('serves at the container cpu units as weight, else Docker default: %j -> %d', (c, want) => {
    // Act / Assess
    expect(servingCpuShares(c)).toBe(want);
  });

  it('runs as the task definition user with a read-only root, the stop timeout and json-file logs', () => {
    // Act
    const f = flags(fargateDockerArgs(synthesized(), IMAGE, PLACE).args);

    // Assess
    expect(f.get('--user')).toEqual(['33:33']);
    expect(f.has('--read-only')).toBe(true);
    expect(f.get('--stop-timeout')).toEqual(['30']);
    expect(f.get('--network')).toEqual(['host']);
    expect(f.get('--log-driver')).toEqual(['json-file']);
    expect(f.get('--log-opt')).toEqual(['mode=non-blocking', 'max-buffer-size=26214400b']);
  });

  it.each([
    {
      name: 'paths the image does not declare are fresh empty root:root 0755 directories (bind mounts)',
      volumes: [],
      mounts: [
        'type=bind,src=/st/tasks/stepdeploy-wp-r1-abc/volumes/tmp,dst=/tmp',
        'type=bind,src=/st/tasks/stepdeploy-wp-r1-abc/volumes/run,dst=/run',
      ],
      dirs: [
        '/st/tasks/stepdeploy-wp-r1-abc/volumes/tmp',
        '/st/tasks/stepdeploy-wp-r1-abc/volumes/run',
      ],
    },
    {
      name: 'paths the image declares as VOLUME are fresh Docker volumes filled from the image',
      volumes: ['/tmp', '/run/'],
      mounts: ['type=volume,dst=/tmp', 'type=volume,dst=/run'],
      dirs: [],
    },
    {
      name: 'a VOLUME elsewhere does not change a path it does not name',
      volumes: ['/tmp'],
      mounts: [
        'type=volume,dst=/tmp',
        'type=bind,src=/st/tasks/stepdeploy-wp-r1-abc/volumes/run,dst=/run',
      ],
      dirs: ['/st/tasks/stepdeploy-wp-r1-abc/volumes/run'],
    },
  ])('$name', ({ volumes, mounts, dirs }) => {
    // Act
    const run = fargateDockerArgs(synthesized(), { ...IMAGE, volumes }, PLACE);
    const all = flags(run.args).get('--mount') ?? [];

    // Assess
    expect(all.filter((m) => /dst=\/(tmp|run)$/.test(m))).toEqual(mounts);
    expect(run.prepare.filter((p) => p.kind === 'empty-dir')).toEqual(
      dirs.map((hostPath) => ({ kind: 'empty-dir', hostPath, uid: 0, gid: 0, mode: 0o755 })),
    );
  });

  it('mounts the EFS volume as the service uploads volume, its root owned per the access point', () => {
    // Act
    const run = fargateDockerArgs(synthesized(), IMAGE, PLACE);

    // Assess
    expect(flags(run.args).get('--mount')).toContain(
      'type=volume,src=stepdeploy-wp-uploads,dst=/var/lib/wordpress/wp-content/uploads,volume-nocopy',
    );
    expect(run.prepare).toContainEqual({
      kind: 'efs-volume',
      volume: 'stepdeploy-wp-uploads',
      labels: {
        'stepdeploy.managed': 'true',
        'stepdeploy.service': 'wp',
        'stepdeploy.role': 'uploads',
      },
      root: { uid: 33, gid: 33, mode: 0o755 },
    });
  });

  it('refuses an EFS access point the local stack does not have', () => {
    // Act
    const act = () => fargateDockerArgs(synthesized(), IMAGE, { ...PLACE, accessPoints: {} });

    // Assess
    expect(act).toThrow(FargateRefusedError);
    expect(act).toThrow(/accessPointId: no local access point/);
  });

  it('passes secrets as read-only files named by <NAME>_FILE, never as values', () => {
    // Act
    const run = fargateDockerArgs(synthesized(), IMAGE, PLACE);
    const f = flags(run.args);

    // Assess
    expect(f.get('--env')).toContain(
      'WORDPRESS_DB_PASSWORD_FILE=/run/secrets/wordpress_db_password',
    );
    expect(f.get('--mount')).toContain(
      'type=bind,src=/st/tasks/stepdeploy-wp-r1-abc/secrets/wordpress_db_password,dst=/run/secrets/wordpress_db_password,readonly',
    );
    expect(run.prepare).toContainEqual({
      kind: 'secret-copy',
      from: '/st/secrets/db-password',
      to: '/st/tasks/stepdeploy-wp-r1-abc/secrets/wordpress_db_password',
      uid: 33,
      gid: 33,
    });
    expect((f.get('--env') ?? []).some((e) => e.startsWith('WORDPRESS_DB_PASSWORD='))).toBe(false);
  });

  it('gives the task its own port: PORT and BIND_ADDRESS, the health check on that port', () => {
    // Act
    const run = fargateDockerArgs(synthesized(), IMAGE, PLACE);
    const f = flags(run.args);

    // Assess
    expect(f.get('--env')).toEqual(
      expect.arrayContaining(['PORT=18001', 'BIND_ADDRESS=127.0.0.1']),
    );
    expect(f.get('--health-cmd')).toEqual(['curl -fsS http://127.0.0.1:18001/healthz || exit 1']);
    expect(run.deviations).toContain(
      "port: the container listens on 127.0.0.1:18001 (PORT, BIND_ADDRESS) instead of its own IP's :8080",
    );
  });

  it.each([
    [1, '10000ms', '5000ms', '30000ms'],
    [0.3, '3000ms', '1500ms', '9000ms'],
  ])(
    'scales the container health check by the time factor %d',
    (timeFactor, interval, timeout, start) => {
      // Act
      const f = flags(fargateDockerArgs(synthesized(), IMAGE, { ...PLACE, timeFactor }).args);

      // Assess
      expect(f.get('--health-interval')).toEqual([interval]);
      expect(f.get('--health-timeout')).toEqual([timeout]);
      expect(f.get('--health-retries')).toEqual(['3']);
      expect(f.get('--health-start-period')).toEqual([start]);
    },
  );

  it('puts the image and the command last, the entryPoint rest before the command', () => {
    // Prepare
    const td = minimal(
      {},
      { entryPoint: ['/bin/sh', '-c'], command: ['echo hi'], workingDirectory: '/w' },
    );

    // Act
    const run = fargateDockerArgs(td, IMAGE, { ...PLACE, port: undefined });

    // Assess
    expect(run.args.slice(-3)).toEqual(['img', '-c', 'echo hi']);
    expect(flags(run.args).get('--entrypoint')).toEqual(['/bin/sh']);
    expect(flags(run.args).get('--workdir')).toEqual(['/w']);
    expect(run.stopTimeoutSeconds).toBe(30);
  });

  it.each([
    [
      { memory: 256, memoryReservation: 128, cpu: 128 },
      { '--memory': ['256m'], '--memory-reservation': ['128m'], '--cpu-shares': ['128'] },
    ],
    [
      { ulimits: [{ name: 'nofile', softLimit: 1024, hardLimit: 4096 }] },
      { '--ulimit': ['nofile=1024:4096'] },
    ],
    [
      {
        linuxParameters: {
          initProcessEnabled: true,
          capabilities: { drop: ['ALL'], add: ['SYS_PTRACE'] },
        },
      },
      { '--init': [''], '--cap-drop': ['ALL'], '--cap-add': ['SYS_PTRACE'] },
    ],
    [{ dockerLabels: { team: 'web' } }, { '--label': ['team=web', 'stepdeploy.role=task'] }],
    [
      {
        healthCheck: { command: ['CMD', 'wget', '-q', 'http://localhost:80/a b'] },
        portMappings: [{ containerPort: 80 }],
      },
      { '--health-cmd': ["wget -q 'http://localhost:18001/a b'"], '--health-interval': ['9000ms'] },
    ],
    [{ healthCheck: { command: ['NONE'] } }, { '--no-healthcheck': [''] }],
  ])('translates container fields %j', (container, want) => {
    // Act
    const f = flags(fargateDockerArgs(minimal({}, container), IMAGE, PLACE).args);

    // Assess
    for (const [flag, values] of Object.entries(want)) expect(f.get(flag)).toEqual(values);
  });

  it.each([
    [{ ...IMAGE, architecture: 'arm64' }, /cpuArchitecture: X86_64, but the image is linux\/arm64/],
    [{ ...IMAGE, os: 'windows' }, /windows images cannot run/],
  ])('refuses an image Fargate could not run (%j)', (image, message) => {
    // Act
    const act = () => fargateDockerArgs(synthesized(), image, PLACE);

    // Assess
    expect(act).toThrow(message);
  });

  it('refuses what fargateProblems refuses, with every problem in the message', () => {
    // Act
    const act = () =>
      fargateDockerArgs(minimal({ networkMode: 'host' }, { privileged: true }), IMAGE, PLACE);

    // Assess
    expect(act).toThrow(/networkMode: Fargate requires awsvpc.*privileged: Fargate refuses it/);
  });
});

describe('scaledHealthCheck', () => {
  it('uses the ECS defaults for timings the task definition leaves out', () => {
    // Act
    const hc = scaledHealthCheck({ healthCheck: { command: ['CMD-SHELL', 'true'] } }, 1, undefined);

    // Assess
    expect(hc).toEqual({
      shell: 'true',
      intervalMs: 30_000,
      timeoutMs: 5_000,
      retries: 3,
      startPeriodMs: 0,
    });
  });
});

describe('ecsHealthStatus', () => {
  it.each([
    ['healthy', true, 'HEALTHY'],
    ['unhealthy', true, 'UNHEALTHY'],
    ['starting', true, 'UNKNOWN'],
    [undefined, true, 'UNKNOWN'],
    ['healthy', false, 'UNKNOWN'],
  ] as const)('Docker %s (running %s) is %s', (status, running, want) => {
    expect(ecsHealthStatus(status, running)).toBe(want);
  });
});
