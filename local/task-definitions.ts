import { mkdir, open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RegisterTaskDefinitionCommandInput, TaskDefinition } from '@aws-sdk/client-ecs';
import { TaskDefinitionError } from '#commons/errors.ts';
import { cpuUnits, fargateProblems, memoryMiB } from './fargate.ts';
import { FileTable } from './table.ts';

/** A task definition carried a secret-looking variable in `environment` instead of `secrets`. */
export class SecretInEnvironmentError extends Error {
  constructor(names: readonly string[]) {
    super(
      `task definition environment must not hold secrets (${names.join(', ')}): pass them as secrets[{name, valueFrom}]`,
    );
    this.name = 'SecretInEnvironmentError';
  }
}

/** No task definition with that family and revision (or ARN) is stored. */
export class TaskDefinitionNotFoundError extends Error {
  constructor(ref: string) {
    super(`task definition ${ref} does not exist`);
    this.name = 'TaskDefinitionNotFoundError';
  }
}

/** The local ARN of a revision, mirroring ECS's `.../task-definition/<family>:<revision>`. */
export function taskDefinitionArn(family: string, revision: number): string {
  return `arn:local:ecs:task-definition/${family}:${revision}`;
}

/** Splits `arn:local:ecs:task-definition/<family>:<rev>` or `<family>:<rev>`. Pure. */
export function parseTaskDefinitionRef(ref: string): { family: string; revision: number } {
  const m = /^(?:arn:[^/]+task-definition\/)?([A-Za-z0-9_-]{1,255}):(\d+)$/.exec(ref);
  if (!m) throw new TaskDefinitionNotFoundError(ref);
  return { family: m[1] as string, revision: Number(m[2]) };
}

const SECRET_NAME = /(PASSWORD|SECRET|TOKEN|_KEY$|_SALT$)/i;

/** Names in containerDefinitions[].environment that look like secrets. Pure. */
export function secretLookingEnvironment(input: RegisterTaskDefinitionCommandInput): string[] {
  return (input.containerDefinitions ?? []).flatMap((c) =>
    (c.environment ?? [])
      .map((e) => e.name ?? '')
      .filter((n) => SECRET_NAME.test(n) && !n.endsWith('_FILE')),
  );
}

/** Stores task-definition revisions as JSON files shaped like ECS TaskDefinition. */
export class TaskDefinitionStore {
  private readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'task-definitions');
  }

  private familyDir(family: string): string {
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(family)) throw new Error(`invalid family ${family}`);
    return join(this.dir, family);
  }

  /** Revisions of a family, ascending. */
  async revisions(family: string): Promise<number[]> {
    try {
      return (await readdir(this.familyDir(family)))
        .map((f) => /^(\d+)\.json$/.exec(f)?.[1])
        .filter((r): r is string => r !== undefined)
        .map(Number)
        .sort((a, b) => a - b);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /**
   * Registers the next revision of `input.family` (like ECS RegisterTaskDefinition) and returns
   * the stored TaskDefinition. Concurrent registrations get distinct revisions (O_EXCL create).
   * Refuses (TaskDefinitionError, naming every field) what Fargate would refuse and what the
   * local runner cannot honour, so a bad revision fails here, before any deployment; cpu and
   * memory are stored as ECS stores them (`0.5 vCPU` → `512`, `1 GB` → `1024`).
   */
  async register(input: RegisterTaskDefinitionCommandInput): Promise<TaskDefinition> {
    const family = input.family;
    if (!family) throw new Error('task definition family is required');
    const leaked = secretLookingEnvironment(input);
    if (leaked.length > 0) throw new SecretInEnvironmentError(leaked);
    const problems = fargateProblems(input);
    if (problems.length > 0)
      throw new TaskDefinitionError(
        `RegisterTaskDefinition refused ${family}: ${problems.join('; ')}`,
      );
    const normalised: RegisterTaskDefinitionCommandInput = {
      ...input,
      cpu: String(cpuUnits(input.cpu)),
      memory: String(memoryMiB(input.memory)),
    };
    const dir = this.familyDir(family);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    for (;;) {
      const revision = ((await this.revisions(family)).at(-1) ?? 0) + 1;
      const td: TaskDefinition = {
        ...normalised,
        compatibilities: ['EC2', 'FARGATE'],
        family,
        revision,
        taskDefinitionArn: taskDefinitionArn(family, revision),
        status: 'ACTIVE',
        registeredAt: new Date(),
      } as TaskDefinition;
      try {
        const fh = await open(join(dir, `${revision}.json`), 'wx', 0o600);
        await fh.writeFile(`${JSON.stringify(td, null, 2)}\n`);
        await fh.close();
        return td;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  }

  /** A stored revision by ARN or `family:revision` (like ECS DescribeTaskDefinition). */
  async describe(ref: string): Promise<TaskDefinition> {
    const { family, revision } = parseTaskDefinitionRef(ref);
    try {
      const td = JSON.parse(
        await readFile(join(this.familyDir(family), `${revision}.json`), 'utf8'),
      ) as TaskDefinition & { registeredAt?: string | Date };
      return { ...td, registeredAt: td.registeredAt ? new Date(td.registeredAt) : undefined };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new TaskDefinitionNotFoundError(ref);
      throw err;
    }
  }

  /** ARNs of a family's revisions, ascending (like ECS ListTaskDefinitions). */
  async list(family: string): Promise<string[]> {
    return (await this.revisions(family)).map((r) => taskDefinitionArn(family, r));
  }
}

/** The local ECS service record: which revision the service runs and how many tasks. */
export interface ServiceRecord extends Record<string, unknown> {
  readonly serviceName: string;
  /** ARN of the revision the service is meant to run. */
  readonly taskDefinition: string;
  readonly desiredCount: number;
  readonly updatedAt: string;
}

/** The table of service records (`<stateDir>/tables/services.json`). */
export function serviceTable(stateDir: string): FileTable<ServiceRecord> {
  return new FileTable<ServiceRecord>(stateDir, 'services', { partitionKey: 'serviceName' });
}

/** The service record, or undefined before the first deployment. */
export function describeService(
  stateDir: string,
  serviceName: string,
): Promise<ServiceRecord | undefined> {
  return serviceTable(stateDir).get({ serviceName });
}

/** Points the service at a revision (like ECS UpdateService taskDefinition/desiredCount). */
export async function updateService(
  stateDir: string,
  update: {
    readonly serviceName: string;
    readonly taskDefinition: string;
    readonly desiredCount?: number;
  },
): Promise<ServiceRecord> {
  const record = await serviceTable(stateDir).update(
    { serviceName: update.serviceName },
    (cur) => ({
      serviceName: update.serviceName,
      taskDefinition: update.taskDefinition,
      desiredCount: update.desiredCount ?? cur?.desiredCount ?? 1,
      updatedAt: new Date().toISOString(),
    }),
  );
  return record as ServiceRecord;
}
