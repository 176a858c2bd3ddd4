import { join } from 'node:path';
import type { LedgerRecord } from '#commons/ledger.ts';
import type { LockItem } from '#commons/lock.ts';
import type { ReleaseTarget } from '#commons/release.ts';
import type { LocalConfig } from '../config.ts';
import type { DatabaseHandle } from '../database.ts';
import type { ImageFault } from '../image-faults.ts';
import type { LoadBalancer } from '../load-balancer.ts';
import type { RegistryHandle } from '../registry.ts';
import type { RunnerEvent } from '../runner.ts';
import { LocalService, type ServiceEvent } from '../scheduler.ts';
import { FileTable } from '../table.ts';
import { TaskDefinitionStore } from '../task-definitions.ts';

/** A ledger record as stored locally: the shared record plus the sparse known-good fields. */
export type LocalLedgerRecord = LedgerRecord & {
  readonly goodAt?: string;
  readonly goodTaskDefinitionArn?: string;
};

/** The local "DynamoDB" ledger table: PK `service`, SK `releaseId`, like the AWS table. */
export function ledgerTable(stateDir: string): FileTable<LocalLedgerRecord> {
  return new FileTable<LocalLedgerRecord>(stateDir, 'ledger', {
    partitionKey: 'service',
    sortKey: 'releaseId',
  });
}

/** The local release-lock table: PK `service`, one item per locked service. */
export function lockTable(stateDir: string): FileTable<LockItem & Record<string, unknown>> {
  return new FileTable<LockItem & Record<string, unknown>>(stateDir, 'locks', {
    partitionKey: 'service',
  });
}

/** The task-definition family local mode registers (like `${prefix}-wordpress` on AWS). */
export function familyOf(service: string): string {
  return `stepdeploy-${service}`;
}

/** Where notifications (the local "SNS topic") are appended, one JSON line each. */
export function notificationsPath(stateDir: string): string {
  return join(stateDir, 'notifications.log');
}

/** What the BuildImage adapter builds beyond the release input (the local "build project"). */
export interface BuildSettings {
  /** Build a deliberately bad image through one of the Ansible role's fault variables. */
  readonly fault?: ImageFault;
  /** Receives every Packer/Ansible/Docker log line (for --verbose). */
  readonly onLog?: (line: string) => void;
}

/** Everything the local step adapters reach: the running local stack and its tables. */
export interface StepContext {
  readonly config: LocalConfig;
  readonly registry: RegistryHandle;
  readonly database: DatabaseHandle;
  readonly loadBalancer: LoadBalancer;
  readonly taskDefinitions: TaskDefinitionStore;
  readonly ledger: FileTable<LocalLedgerRecord>;
  readonly locks: FileTable<LockItem & Record<string, unknown>>;
  readonly service: LocalService;
  readonly build: BuildSettings;
  /** Seconds a release lock lasts before another release may take it over. */
  readonly lockLeaseSeconds: number;
  /** The execution's events so far (RecordRelease computes step durations from them). */
  readonly events: readonly RunnerEvent[];
  /** One-line notes from the adapters for the progress display (never secrets). */
  readonly note: (line: string) => void;
  /** Where Notify's line goes besides the state dir (stdout, or stderr in --json mode). */
  readonly announce: (line: string) => void;
  readonly now: () => Date;
  /**
   * Milliseconds the next visit of a Wait state lasts, by state name, when a step decided it
   * (the health gate paces its own polls); the local runner reads it at each visit.
   */
  readonly waits: Map<string, number>;
}

/** The local stack's coordinates standing in for the stack's in `$.release.target`. */
export function localTarget(
  ctx: Pick<StepContext, 'config' | 'database' | 'loadBalancer'>,
  fromTemplate: ReleaseTarget,
): ReleaseTarget {
  return {
    cluster: 'local',
    service: ctx.config.service,
    containerName: fromTemplate.containerName,
    targetGroupArn: `local:haproxy:${ctx.loadBalancer.container}/app`,
    dbInstanceIdentifier: ctx.database.container,
    siteUrl: ctx.loadBalancer.url,
    sourceRepositoryUrl: `file://${ctx.config.stateDir}`,
    sourceBucket: 'local',
    snapshotPrefix: fromTemplate.snapshotPrefix,
  };
}

/** Parts of the stack a context is made from (what local/stack.ts `up` returns). */
export interface StackParts {
  readonly config: LocalConfig;
  readonly registry: RegistryHandle;
  readonly database: DatabaseHandle;
  readonly loadBalancer: LoadBalancer;
}

/** Options for {@link createContext}. */
export interface ContextOptions {
  readonly build?: BuildSettings;
  readonly events?: RunnerEvent[];
  readonly note?: (line: string) => void;
  readonly announce?: (line: string) => void;
  readonly onServiceEvent?: (event: ServiceEvent) => void;
  readonly lockLeaseSeconds?: number;
  readonly desiredCount?: number;
}

/** The scheduler's loop period for a health-check interval: half of it, 200 ms at least. Pure. */
export function schedulerPollMs(healthCheckIntervalMs: number): number {
  return Math.max(200, Math.round(healthCheckIntervalMs / 2));
}

/** Builds the step context for a running stack. */
export function createContext(stack: StackParts, opts: ContextOptions = {}): StepContext {
  const { config } = stack;
  const taskDefinitions = new TaskDefinitionStore(config.stateDir);
  return {
    ...stack,
    taskDefinitions,
    ledger: ledgerTable(config.stateDir),
    locks: lockTable(config.stateDir),
    service: new LocalService({
      stateDir: config.stateDir,
      service: config.service,
      loadBalancer: stack.loadBalancer,
      taskDefinitions,
      portBase: config.taskPortBase,
      desiredCount: opts.desiredCount ?? 2,
      // Half a health-check interval: the scheduler sees each check's verdict without
      // spending the CPU the tasks serve with on polling Docker.
      pollMs: schedulerPollMs(stack.loadBalancer.healthCheck.intervalMs),
      onEvent: opts.onServiceEvent,
    }),
    build: opts.build ?? {},
    lockLeaseSeconds: opts.lockLeaseSeconds ?? 3600,
    events: opts.events ?? [],
    note: opts.note ?? (() => {}),
    announce: opts.announce ?? (() => {}),
    now: () => new Date(),
    waits: new Map(),
  };
}
