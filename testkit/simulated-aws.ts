import type { Deployment, Task, TaskDefinition } from '@aws-sdk/client-ecs';
import type { TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import { stepDurations } from '#commons/durations.ts';
import { NoKnownGoodError, ReleaseSupersededError, SmokeTestError } from '#commons/errors.ts';
import { initialProgress, judgeHealth, paceVerdict, pollTimingOf } from '#commons/health.ts';
import {
  buildLedgerRecord,
  chooseLastKnownGood,
  type LedgerRecord,
  type ReleaseState,
} from '#commons/ledger.ts';
import {
  describeSuperseded,
  enqueue,
  type LockClaim,
  type LockItem,
  lockHeldError,
  newLock,
  type QueueItem,
} from '#commons/lock.ts';
import { releaseTargetSchema } from '#commons/release.ts';
import {
  chooseSnapshotsToDelete,
  knownGoodSnapshotIds,
  type SnapshotInfo,
  SnapshotPruneError,
} from '#commons/snapshot-retention.ts';
import { cloneTaskDefinition, pinImage } from '#commons/task-definition.ts';
import { manifestKey } from '#commons/verify-manifest.ts';
import type { DatabaseSchema } from '#commons/wordpress-schema.ts';
import { judgeInstalled } from '#functions/check-installed/check-installed.ts';
import { judgeTrial, type TrialTaskView } from '#functions/check-trial/check-trial.ts';
import { checkTrialSchema } from '#functions/check-trial/schema.ts';
import { compareSchemas } from '#functions/compare-schema/compare-schema.ts';
import { CompareSchemaInputSchema } from '#functions/compare-schema/schema.ts';
import { deployServiceSchema } from '#functions/deploy-service/schema.ts';
import { imageFromBuild } from '#functions/read-build-output/read-build-output.ts';
import type { RecordSnapshotManifestOutput } from '#functions/record-snapshot-manifest/schema.ts';
import { validateRelease } from '#functions/validate-input/validate-input.ts';
import type { HttpAnswer } from '#functions/verify-application/verify-application.ts';
import { type Json, type RunnerEvent, type StepHandler, toHistoryEvents } from '#local/runner.ts';

/** A secret value that exists only in the simulated Secrets Manager; it must never surface. */
export const SECRET_VALUE = 'Sup3r-S3cret-Db-Pa55word!';
const SECRET_REF = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:sd-db-AbCdEf:password::';
const REPO = '123456789012.dkr.ecr.us-east-1.amazonaws.com/stepdeploy-wordpress';
const td = (n: number) =>
  `arn:aws:ecs:us-east-1:123456789012:task-definition/stepdeploy-wordpress:${n}`;

/** A digest for a build; `bad` images never get healthy targets. */
export const digestOf = (label: string) =>
  `sha256:${Buffer.from(label.padEnd(32, '.')).toString('hex').slice(0, 64)}`;

/** An error raised by an injected failure; its name is not retried by the ASL. */
export class InjectedFailure extends Error {
  constructor(state: string) {
    super(`injected failure in ${state}`);
    this.name = 'InjectedFailure';
  }
}

// Step inputs are JSON the ASL shapes; the simulation reads them like the Lambdas' zod output.
// biome-ignore lint/suspicious/noExplicitAny: untyped JSON from the state machine, read field by field.
type StepInput = Record<string, any>;

interface Rollout {
  deploymentId: string;
  taskDefinitionArn: string;
  createdAt: Date;
  polls: number;
  /** Simulated time since the deployment, advanced by each wait the gate chose. */
  elapsedMs: number;
  /** The wait before the next poll (s): the ASL's first one, then each verdict's. */
  nextWaitSeconds: number;
}

/** The first health poll's wait, as DeployService's ResultSelector in the ASL sets it. */
export const FIRST_HEALTH_POLL_SECONDS = 5;

/**
 * A rollout that takes time: every new target `initial` until `healthyAfterMs`, then healthy
 * (or unhealthy, for a bad image); ECS calls it COMPLETED `drainMs` later, once the old tasks
 * have drained.
 */
export interface TimedRollout {
  readonly healthyAfterMs: number;
  readonly drainMs: number;
}

/**
 * A small in-memory AWS for one service: DynamoDB lock and ledger, ECS task definitions,
 * service deployments and tasks, ELB target health, CodeBuild, RDS snapshots and SNS. Its
 * handlers honour each step's contract and reuse the steps' pure decision functions, so the
 * state machine is exercised against the same logic the Lambdas run.
 */
export class SimulatedAws {
  lock: LockItem | undefined;
  /** The release queue item beside the lock (newest claim). */
  queue: QueueItem | undefined;
  /** The lock's lease, as LOCK_LEASE_SECONDS. */
  leaseSeconds = 7200;
  /** Runs on each AcquireLock after the claim is recorded: a test frees the lock or lets a newer release ask. */
  onLockPoll?: (poll: number) => void;
  private lockPolls = 0;
  ledger: LedgerRecord[] = [];
  readonly taskDefinitions = new Map<string, TaskDefinition>();
  serviceTaskDefinition: string;
  /** The service's desired count: created at 0, set by each UpdateService that carries one. */
  desiredCount = 0;
  /** The desired count each DeployService/Rollback call asked for, in order. */
  readonly desiredCounts: Array<number | undefined> = [];
  rollout: Rollout | undefined;
  /** WordPress is installed on the database (false: a fresh database, /readyz not-installed). */
  installed = true;
  /** Exit code the one-off install task's container ends with. */
  installExitCode = 0;
  /** Each InstallWordPress RunTask as the state machine asked for it. */
  readonly installRuns: StepInput[] = [];
  readonly notifications: Array<{
    Subject: string;
    Message: string;
    severity: string;
    outcome: string;
  }> = [];
  readonly calls: string[] = [];
  /** Revisions whose last health verdict was HEALTHY, plus the one running at the start. */
  readonly healthGated = new Set<string>();
  /** Image digests whose tasks fail their target health checks once they take traffic (the trial passes them). */
  readonly badDigests = new Set<string>();
  /** Image digests whose tasks answer 500 on their health check path everywhere: the trial refuses them. */
  readonly brokenDigests = new Set<string>();
  /** Image digests whose tasks exit at start: the trial task stops. */
  readonly crashingDigests = new Set<string>();
  /** RunTask places no trial task and answers with this failure reason instead. */
  trialPlacementFailure: string | undefined;
  /** Each trial task StartTrial ran, and whether it was stopped. */
  readonly trials: Array<{
    startedBy: string;
    taskArn: string;
    taskDefinitionArn: string;
    stopped: boolean;
    polls: number;
  }> = [];
  /** state name → how many times to fail (Infinity = always) and with what. */
  readonly failures = new Map<string, { times: number; error: () => Error }>();
  buildLabel = 'good';
  /**
   * The service's target group as DescribeTargetGroups / DescribeTargetGroupAttributes answer
   * for the template (10 s interval, unhealthy threshold 2, 20 s deregistration delay).
   */
  targetGroup = {
    group: { HealthCheckIntervalSeconds: 10, HealthyThresholdCount: 2, UnhealthyThresholdCount: 2 },
    attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '20' }],
  };
  /**
   * When set, the rollout follows simulated time (see {@link TimedRollout}) instead of the poll
   * count (initial on the first poll, settled on the second).
   */
  timedRollout: TimedRollout | undefined;
  /** When set, every health wait lasts this long whatever the verdict says (a fixed-pace gate). */
  fixedPollSeconds: number | undefined;
  /** What a finished build exports, when a test replaces IMAGE_URI and IMAGE_DIGEST. */
  exportedVariables: Array<{ Name: string; Value: string }> | undefined;
  /** The database's manual snapshots (SnapshotDatabase adds, PruneSnapshots deletes). */
  snapshots: SnapshotInfo[] = [];
  /** Snapshot ids RDS refuses to delete (InvalidDBSnapshotState), to exercise PruneSnapshots' report. */
  readonly undeletableSnapshots = new Set<string>();
  events: () => readonly RunnerEvent[] = () => [];
  /** The live database's schema (RecordSnapshotManifest records it, CompareSchema reads it). */
  schema: DatabaseSchema = {
    dbVersion: '58975',
    tables: {
      wp_options: ['option_id', 'option_name', 'option_value', 'autoload'],
      wp_posts: ['ID', 'post_author', 'post_title', 'post_status'],
    },
  };
  /** What the new revision's code does to the schema when it first runs (its trial task). */
  schemaOnDeploy?: (schema: DatabaseSchema) => DatabaseSchema;
  private revision = 7;
  private deployments = 0;

  constructor() {
    for (const n of [6, 7]) {
      this.taskDefinitions.set(td(n), {
        taskDefinitionArn: td(n),
        family: 'stepdeploy-wordpress',
        revision: n,
        status: 'ACTIVE',
        compatibilities: ['EC2', 'FARGATE'],
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '512',
        memory: '1024',
        containerDefinitions: [
          {
            name: 'wordpress',
            image: `${REPO}@${digestOf(`rev-${n}`)}`,
            environment: [{ name: 'WORDPRESS_DB_HOST', value: 'db.internal:3306' }],
            secrets: [{ name: 'WORDPRESS_DB_PASSWORD', valueFrom: SECRET_REF }],
          },
        ],
      });
    }
    this.serviceTaskDefinition = td(7);
    this.healthGated.add(td(7));
    this.ledger.push(this.record('r-prev', 'SUCCEEDED', td(7), '2026-01-01T00:00:00.000Z'));
  }

  /** A ledger record as RecordRelease writes it. */
  record(
    releaseId: string,
    outcome: LedgerRecord['outcome'],
    arn: string,
    finishedAt: string,
  ): LedgerRecord {
    return {
      service: 'stepdeploy-wordpress',
      releaseId,
      outcome,
      startedAt: finishedAt,
      finishedAt,
      trigger: 'manual',
      startedBy: 'seed',
      source: { type: 'image' },
      taskDefinitionArn: arn,
    };
  }

  /** ecs:stopTask of a trial task: StopTask's answer. */
  private stopTrial(taskArn: string) {
    const trial = this.trials.find((t) => t.taskArn === taskArn);
    if (!trial) throw new Error(`ECS.InvalidParameterException: no task ${taskArn}`);
    trial.stopped = true;
    return { Task: { TaskArn: taskArn, LastStatus: 'RUNNING', DesiredStatus: 'STOPPED' } };
  }

  /** The image a revision runs. */
  imageOf(arn: string): string {
    return this.taskDefinitions.get(arn)?.containerDefinitions?.[0]?.image ?? '';
  }

  private maybeFail(state: string): void {
    const failure = this.failures.get(state);
    if (failure && failure.times > 0) {
      failure.times -= 1;
      throw failure.error();
    }
  }

  private observe(
    arn: string,
    rollout: Rollout,
  ): { deployments: Deployment[]; tasks: Task[]; targets: TargetHealthDescription[] } {
    rollout.polls += 1;
    rollout.elapsedMs += rollout.nextWaitSeconds * 1000;
    const bad = this.badDigests.has(this.imageOf(arn).split('@')[1] ?? '');
    const timed = this.timedRollout;
    const ips = ['10.0.1.10', '10.0.2.10'];
    const tasks: Task[] = ips.map((ip, i) => ({
      taskArn: `arn:aws:ecs:us-east-1:123456789012:task/sd/${rollout.deploymentId.slice(-4)}${i}`,
      taskDefinitionArn: arn,
      lastStatus: 'RUNNING',
      createdAt: rollout.createdAt,
      attachments: [
        { type: 'ElasticNetworkInterface', details: [{ name: 'privateIPv4Address', value: ip }] },
      ],
    }));
    const started = timed ? rollout.elapsedMs >= timed.healthyAfterMs : rollout.polls > 1;
    const state = !started ? 'initial' : bad ? 'unhealthy' : 'healthy';
    const completed = timed
      ? state === 'healthy' && rollout.elapsedMs >= timed.healthyAfterMs + timed.drainMs
      : state === 'healthy';
    const targets: TargetHealthDescription[] = ips.map((ip) => ({
      Target: { Id: ip, Port: 8080 },
      TargetHealth: {
        State: state,
        ...(state === 'initial' ? { Reason: 'Elb.RegistrationInProgress' } : {}),
        ...(state === 'unhealthy'
          ? {
              Reason: 'Target.ResponseCodeMismatch',
              Description: 'Health checks failed with these codes: [503]',
            }
          : {}),
      },
    }));
    const deployments: Deployment[] = [
      {
        id: rollout.deploymentId,
        status: 'PRIMARY',
        taskDefinition: arn,
        desiredCount: 2,
        runningCount: 2,
        rolloutState: completed ? 'COMPLETED' : 'IN_PROGRESS',
        createdAt: rollout.createdAt,
      },
    ];
    return { deployments, tasks, targets };
  }

  /** Local handlers for every Task state of the release definition. */
  handlers(): Record<string, StepHandler> {
    const step =
      (name: string, fn: (input: StepInput) => unknown): StepHandler =>
      async (input) => {
        this.calls.push(name);
        this.maybeFail(name);
        return fn(input as StepInput) as Json;
      };
    const deploy = (raw: StepInput) => {
      // The Lambda's own schema: what the ASL passes must be what DeployService accepts.
      const input = deployServiceSchema.parse(raw);
      this.desiredCounts.push(input.desiredCount);
      if (input.desiredCount !== undefined) this.desiredCount = input.desiredCount;
      this.serviceTaskDefinition = input.taskDefinitionArn;
      this.deployments += 1;
      const createdAt = new Date(Date.UTC(2026, 1, 1, 10, this.deployments));
      this.rollout = {
        deploymentId: `ecs-svc/${1000 + this.deployments}`,
        taskDefinitionArn: input.taskDefinitionArn,
        createdAt,
        polls: 0,
        elapsedMs: 0,
        nextWaitSeconds: this.fixedPollSeconds ?? FIRST_HEALTH_POLL_SECONDS,
      };
      return {
        deploymentId: this.rollout.deploymentId,
        taskDefinitionArn: input.taskDefinitionArn,
        startedAt: createdAt.toISOString(),
      };
    };
    const checkHealth = (input: StepInput) => {
      const rollout = this.rollout;
      if (!rollout) throw new Error('no deployment');
      const seen = this.observe(input.taskDefinitionArn, rollout);
      const now = new Date(
        rollout.createdAt.getTime() +
          (this.timedRollout ? rollout.elapsedMs : rollout.polls * 15_000),
      );
      const judged = judgeHealth(
        {
          taskDefinitionArn: input.taskDefinitionArn,
          deploymentId: input.deploymentId,
          startedAt: input.startedAt,
          now,
          ...seen,
        },
        input.policy,
        input.progress ?? initialProgress,
      );
      // Paced as the Lambda paces it, from the target group's settings.
      const verdict = paceVerdict(
        judged,
        pollTimingOf(
          this.targetGroup.group,
          this.targetGroup.attributes,
          input.policy.maxPollSeconds,
        ),
      );
      rollout.nextWaitSeconds = this.fixedPollSeconds ?? verdict.nextPollSeconds;
      if (verdict.status === 'HEALTHY') this.healthGated.add(input.taskDefinitionArn);
      return verdict;
    };
    return {
      ValidateInput: step('ValidateInput', (input) =>
        validateRelease(input.input, {
          executionName: input.executionName,
          startTime: input.startTime,
          target: releaseTargetSchema.parse(input.target),
        }),
      ),
      AcquireLock: step('AcquireLock', (input) => {
        // The Lambda's two writes (functions/acquire-lock): claim as newest, then take the lock
        // while still the newest.
        const now = new Date();
        const nowSeconds = Math.floor(now.getTime() / 1000);
        const claim: LockClaim = {
          releaseId: input.releaseId,
          startedAt: input.startedAt,
          startedBy: input.startedBy,
        };
        const next = enqueue(this.queue, input.service, claim, nowSeconds + this.leaseSeconds);
        if (!next) throw new ReleaseSupersededError(describeSuperseded(claim, this.queue));
        this.queue = next;
        this.lockPolls += 1;
        this.onLockPoll?.(this.lockPolls);
        if (this.queue.newest !== input.releaseId)
          throw new ReleaseSupersededError(describeSuperseded(claim, this.queue));
        const held = this.lock;
        if (held && held.expiresAt >= nowSeconds && held.holder !== input.releaseId)
          throw lockHeldError(claim, input.service, held, now, this.leaseSeconds);
        this.lock = newLock(
          input.service,
          input.releaseId,
          input.startedBy,
          now,
          this.leaseSeconds,
        );
        return {
          holder: input.releaseId,
          expiresAt: new Date(this.lock.expiresAt * 1000).toISOString(),
        };
      }),
      BuildImage: step('BuildImage', (input) => ({
        Build: {
          Id: `stepdeploy-image:${input.SourceVersion}`,
          BuildStatus: 'SUCCEEDED',
          ExportedEnvironmentVariables: this.exportedVariables ?? [
            { Name: 'IMAGE_URI', Value: `${REPO}:${input.SourceVersion.slice(0, 12)}` },
            { Name: 'IMAGE_DIGEST', Value: digestOf(this.buildLabel) },
          ],
        },
      })),
      ReadBuildOutput: step('ReadBuildOutput', (input) => imageFromBuild(input.build)),
      SnapshotDatabase: step('SnapshotDatabase', (input) => {
        this.snapshots.push({
          id: input.DbSnapshotIdentifier,
          createdAt: new Date().toISOString(),
          status: 'available',
          tags: Object.fromEntries(
            (input.Tags as { Key: string; Value: string }[]).map((t) => [t.Key, t.Value]),
          ),
        });
        return {
          DbSnapshot: {
            DbSnapshotIdentifier: input.DbSnapshotIdentifier,
            DbInstanceIdentifier: input.DbInstanceIdentifier,
            Status: 'creating',
          },
        };
      }),
      CheckSnapshot: step('CheckSnapshot', (input) => ({
        DbSnapshots: [{ DbSnapshotIdentifier: input.DbSnapshotIdentifier, Status: 'available' }],
      })),
      RegisterTaskDefinition: step('RegisterTaskDefinition', (input) => {
        const previous = this.serviceTaskDefinition;
        const current = this.taskDefinitions.get(previous);
        const registration = cloneTaskDefinition(
          { taskDefinition: current },
          input.containerName,
          pinImage(input.imageUri, input.imageDigest),
        );
        this.revision += 1;
        const arn = td(this.revision);
        this.taskDefinitions.set(arn, {
          ...registration,
          taskDefinitionArn: arn,
          revision: this.revision,
        } as TaskDefinition);
        return {
          taskDefinitionArn: arn,
          previousTaskDefinitionArn: previous,
          family: registration.family,
          revision: this.revision,
          image: registration.containerDefinitions?.[0]?.image,
        };
      }),
      // ecs:runTask: the trial task of the new revision; its code runs against the database.
      StartTrial: step('StartTrial', (input) => {
        if (this.trialPlacementFailure)
          return {
            Tasks: [],
            Failures: [{ Arn: input.TaskDefinition, Reason: this.trialPlacementFailure }],
          };
        const taskArn = `arn:aws:ecs:us-east-1:123456789012:task/sd/trial${this.trials.length + 1}`;
        this.trials.push({
          startedBy: input.StartedBy,
          taskArn,
          taskDefinitionArn: input.TaskDefinition,
          stopped: false,
          polls: 0,
        });
        if (this.schemaOnDeploy) this.schema = this.schemaOnDeploy(this.schema);
        return {
          Tasks: [
            {
              TaskArn: taskArn,
              LastStatus: 'PROVISIONING',
              TaskDefinitionArn: input.TaskDefinition,
            },
          ],
          Failures: [],
        };
      }),
      CheckTrial: step('CheckTrial', (raw) => {
        const input = checkTrialSchema.parse(raw);
        const trial = this.trials.find((t) => t.taskArn === input.tasks[0]);
        if (trial) trial.polls += 1;
        const digest = trial ? (this.imageOf(trial.taskDefinitionArn).split('@')[1] ?? '') : '';
        const createdAt = new Date(Date.UTC(2026, 1, 1, 9, 0));
        const crashed = this.crashingDigests.has(digest);
        const task: TrialTaskView | undefined = trial && {
          taskArn: trial.taskArn,
          // The first poll finds it still starting, as DescribeTasks would.
          lastStatus: trial.polls === 1 ? 'PENDING' : crashed ? 'STOPPED' : 'RUNNING',
          createdAt,
          ...(crashed ? { stoppedReason: 'Essential container in task exited' } : {}),
          containers: [{ name: 'wordpress', ...(crashed ? { exitCode: 3 } : {}) }],
          address: '10.0.3.10',
        };
        const broken = this.brokenDigests.has(digest);
        const health: HttpAnswer = broken
          ? { status: 500, body: 'unhealthy\n' }
          : { status: 200, body: 'ok\n' };
        const ran = task?.lastStatus === 'RUNNING';
        return judgeTrial(
          '/healthz',
          {
            task,
            failures: input.failures,
            ...(ran ? { health } : {}),
            ...(ran && !broken
              ? {
                  readyz: this.installed
                    ? { status: 200, body: 'ready\n' }
                    : { status: 503, body: 'not-installed\n' },
                  home: { status: 200, body: '<!doctype html><html><body>hi</body></html>' },
                }
              : {}),
            now: new Date(createdAt.getTime() + (trial?.polls ?? 0) * 15_000),
          },
          input.policy,
          input.progress,
        );
      }),
      StopTrial: step('StopTrial', (input) => this.stopTrial(input.Task)),
      StopRefusedTrial: step('StopRefusedTrial', (input) => this.stopTrial(input.Task)),
      DeployService: step('DeployService', deploy),
      Rollback: step('Rollback', deploy),
      CheckHealth: step('CheckHealth', checkHealth),
      CheckRollbackHealth: step('CheckRollbackHealth', checkHealth),
      CheckInstalled: step('CheckInstalled', (input) => {
        if (!input.siteUrl) throw new Error('no site url');
        return this.installed
          ? judgeInstalled(200, 'ready\n')
          : judgeInstalled(503, 'not-installed\n');
      }),
      // ecs:runTask.sync: the stopped task as DescribeTasks describes it.
      InstallWordPress: step('InstallWordPress', (input) => {
        this.installRuns.push(input);
        const command = input.Overrides?.ContainerOverrides?.[0]?.Command;
        const ran = JSON.stringify(command) === '["stepdeploy-install"]';
        if (ran && this.installExitCode === 0) this.installed = true;
        return {
          TaskArn: `arn:aws:ecs:us-east-1:123456789012:task/sd/install${this.installRuns.length}`,
          TaskDefinitionArn: input.TaskDefinition,
          LastStatus: 'STOPPED',
          StopCode: 'EssentialContainerExited',
          StoppedReason: 'Essential container in task exited',
          Containers: [
            {
              Name: 'wordpress',
              LastStatus: 'STOPPED',
              ExitCode: ran ? this.installExitCode : 127,
            },
          ],
        };
      }),
      SmokeTest: step('SmokeTest', (input) => {
        if (!input.siteUrl) throw new SmokeTestError('no site url');
        if (!this.installed)
          throw new SmokeTestError('/readyz answered 503: not-installed after 5 attempt(s)');
        return {
          checks: [
            { path: '/readyz', status: 200, ok: true },
            { path: '/', status: 200, ok: true },
          ],
        };
      }),
      FindLastKnownGood: step('FindLastKnownGood', (input) => {
        const goods = this.ledger.filter((r) => r.releaseId !== input.releaseId);
        const choice = chooseLastKnownGood(
          goods,
          input.failedTaskDefinitionArn,
          input.previousTaskDefinitionArn,
        );
        if (!choice) throw new NoKnownGoodError('nothing known good');
        return choice;
      }),
      RecordRelease: step('RecordRelease', (input) => {
        const record = buildLedgerRecord(
          input.state as ReleaseState,
          stepDurations(toHistoryEvents(this.events())),
          new Date(),
        );
        this.ledger = [...this.ledger.filter((r) => r.releaseId !== record.releaseId), record];
        return {
          releaseId: record.releaseId,
          outcome: record.outcome,
          finishedAt: record.finishedAt,
        };
      }),
      PruneSnapshots: step('PruneSnapshots', (input) => {
        const decision = chooseSnapshotsToDelete(this.snapshots, {
          service: input.service,
          snapshotPrefix: input.snapshotPrefix,
          currentSnapshotId: input.currentSnapshotId,
          knownGoodSnapshotIds: knownGoodSnapshotIds(this.ledger, input.keepKnownGood),
          policy: { keepNewest: input.keepNewest, keepKnownGood: input.keepKnownGood },
        });
        const refused = decision.delete.filter((id) => this.undeletableSnapshots.has(id));
        this.snapshots = this.snapshots.filter(
          (s) => !decision.delete.includes(s.id) || refused.includes(s.id),
        );
        if (refused.length > 0) {
          throw new SnapshotPruneError(
            `could not delete ${refused.length} of ${decision.delete.length} old release snapshot(s): ${refused.map((id) => `${id} (InvalidDBSnapshotStateFault: snapshot is not available)`).join('; ')}`,
          );
        }
        return { deleted: decision.delete, kept: decision.keep };
      }),
      ReleaseLock: step('ReleaseLock', (input) => {
        const unlocked =
          this.lock?.holder === input.releaseId
            ? { released: true }
            : { released: false, reason: 'not ours' };
        if (unlocked.released) this.lock = undefined;
        // Like functions/release-lock: a trial of this release still running is stopped.
        const left = this.trials.filter(
          (t) => !t.stopped && t.startedBy === `stepdeploy-trial-${input.releaseId}`,
        );
        for (const t of left) t.stopped = true;
        return left.length ? { ...unlocked, trialsStopped: left.map((t) => t.taskArn) } : unlocked;
      }),
      Notify: step('Notify', (input) => {
        // SNS refuses subjects over 100 characters, which would silence the announcement.
        if (String(input.Subject).length > 100) {
          throw Object.assign(new Error('Subject must be less than 100 characters'), {
            name: 'Sns.InvalidParameterException',
          });
        }
        this.notifications.push({
          Subject: input.Subject,
          Message: input.Message,
          severity: input.MessageAttributes.severity.StringValue,
          outcome: input.MessageAttributes.outcome.StringValue,
        });
        return { MessageId: `msg-${this.notifications.length}` };
      }),
    };
  }
}

/** A valid release input of each kind. */
export const inputs = {
  commit: (over: Record<string, Json> = {}): Json => ({
    source: { type: 'codecommit', commitId: 'c0ffee'.padEnd(40, '0') },
    startedBy: 'alice',
    ...over,
  }),
  image: (digestLabel: string): Json => ({
    source: { type: 'image', imageUri: `${REPO}@${digestOf(digestLabel)}` },
    startedBy: 'bob',
  }),
};

export const NESTED_CAUSE =
  'Backup verification of stepdeploy-release-x FAILED at VerifyData (DataVerificationError): data checks failed: ChecksumMismatch:wp_options expected 1 got 2';

/**
 * The two steps SimulatedAws does not know: the manifest Lambda (an in-memory manifest bucket)
 * and the nested verify-restore run, answering as `states:startExecution.sync:2` does: the
 * DescribeExecution shape on success, States.TaskFailed with that JSON as Cause on failure.
 */
export class SnapshotProofs {
  readonly manifests = new Map<
    string,
    { snapshotId: string; recordedBefore: string[]; schema?: DatabaseSchema }
  >();
  readonly nestedRuns: Array<Record<string, Json>> = [];
  nested: 'pass' | 'fail' | 'aborted' | 'timeout' = 'pass';
  /** false: manifests as recorded before they held the schema. */
  recordSchema = true;
  /** Every CompareSchema input, in order. */
  readonly comparisons: Array<Record<string, Json>> = [];

  handlers(aws: SimulatedAws): Record<string, (input: Json) => Promise<Json>> {
    const step =
      (name: string, fn: (input: Record<string, Json>) => Json) =>
      async (input: Json): Promise<Json> => {
        aws.calls.push(name);
        const failure = aws.failures.get(name);
        if (failure && failure.times > 0) {
          failure.times -= 1;
          throw failure.error();
        }
        return fn(input as Record<string, Json>);
      };
    return {
      RecordSnapshotManifest: step('RecordSnapshotManifest', (input) => {
        const snapshotId = String(input.snapshotId);
        const key = manifestKey('manifests/', snapshotId);
        this.manifests.set(key, {
          snapshotId,
          recordedBefore: [...aws.calls],
          ...(this.recordSchema ? { schema: structuredClone(aws.schema) } : {}),
        });
        const out: RecordSnapshotManifestOutput = {
          snapshotId,
          location: `s3://stepdeploy-manifests/${key}`,
          consistency: 'before-snapshot',
          state: 'recorded',
          tables: 12,
          createdAt: '2026-02-01T10:00:00.000Z',
        };
        return out as unknown as Json;
      }),
      // The Lambda's decision on the manifest under manifestKey and the live schema.
      CompareSchema: step('CompareSchema', (raw) => {
        this.comparisons.push(raw);
        const input = CompareSchemaInputSchema.parse(raw);
        const stored = this.manifests.get(manifestKey('manifests/', input.snapshotId));
        const manifest = stored && {
          snapshotId: stored.snapshotId,
          createdAt: '2026-02-01T10:00:00.000Z',
          tables: {},
          ...(stored.schema ? { schema: stored.schema } : {}),
        };
        return compareSchemas(input, manifest, aws.schema) as unknown as Json;
      }),
      VerifyBackup: step('VerifyBackup', (input) => {
        this.nestedRuns.push(input);
        const describe = {
          ExecutionArn: `arn:aws:states:us-east-1:123456789012:execution:stepdeploy-verify-restore:${input.Name}`,
          StateMachineArn: input.StateMachineArn,
          Name: input.Name,
          StartDate: 1769940000000,
          StopDate: 1769941200000,
        };
        const taskFailed = (body: Record<string, Json>) =>
          Object.assign(new Error(JSON.stringify({ ...describe, ...body })), {
            name: 'States.TaskFailed',
          });
        switch (this.nested) {
          case 'pass':
            return { ...describe, Status: 'SUCCEEDED', Output: { verified: true } };
          case 'fail':
            throw taskFailed({
              Status: 'FAILED',
              Error: 'VerificationFailed',
              Cause: NESTED_CAUSE,
            });
          case 'aborted':
            throw taskFailed({ Status: 'ABORTED' });
          case 'timeout':
            throw Object.assign(new Error('Task timed out after 5400 seconds'), {
              name: 'States.Timeout',
            });
        }
      }),
    };
  }
}
