/**
 * The verify-restore machine, taken from the synthesized template, run in aws-local-stepfunctions
 * with every Task bound to an in-memory stand-in shaped like the AWS responses. Every path must
 * delete the scratch instance, and every failure must be announced naming its step and check.
 */
import { Template } from 'aws-cdk-lib/assertions';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import { verificationTaskDefinition } from '#commons/task-definition.ts';
import {
  ApplicationVerificationError,
  DataVerificationError,
  NoSnapshotError,
} from '#commons/verify-errors.ts';
import { type Json, type LocalExecution, runLocal, type StepHandler } from '#local/runner.ts';
import { type CfnTemplate, definitionFromTemplate } from '#local/template.ts';
import { synthVerifyRestoreStack } from '../cdk/verify-restore.fixture.ts';

let definition: StateMachineDefinition;
const RESTORE_MAX_POLLS = 120; // fixture defaults: 1 h restore timeout / 30 s polls
const APP_MAX_POLLS = 40; // 10 min / 15 s

beforeAll(() => {
  const { stack } = synthVerifyRestoreStack();
  definition = definitionFromTemplate({
    stack: 'VerifyRestoreTest',
    templates: { VerifyRestoreTest: Template.fromStack(stack).toJSON() as CfnTemplate },
    match: 'verify',
  });
});

function awsError(name: string, message = name): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** An in-memory account: one RDS scratch instance at most, one ECS task, a topic. */
class World {
  readonly scratch = new Map<string, { status: string; tags: { Key: string; Value: string }[] }>();
  readonly deleted: string[] = [];
  readonly stopped: string[] = [];
  readonly notifications: string[] = [];
  readonly metrics: Json[] = [];
  readonly calls: Record<string, number> = {};
  statuses = ['creating', 'backing-up', 'available'];
  probes: (Json | Error)[] = [
    { state: 'PENDING', detail: 'task provisioning' },
    { state: 'PASSED', detail: 'readyz 200 and home page rendered' },
  ];
  overrides: Partial<Record<string, StepHandler>> = {};
  /** Verification revisions RegisterVerificationTaskDefinition registered, by ARN. */
  readonly verificationRevisions = new Map<string, ReturnType<typeof verificationTaskDefinition>>();

  handlers(): Record<string, StepHandler> {
    const count = (name: string) => {
      this.calls[name] = (this.calls[name] ?? 0) + 1;
      return this.calls[name];
    };
    const base: Record<string, StepHandler> = {
      PickSnapshot: (input) => {
        count('PickSnapshot');
        const { runId } = input as { runId: string };
        return {
          snapshotId: 'rds:test-db-2025-06-01-03-10',
          snapshotArn: 'arn:aws:rds:eu-west-1:123456789012:snapshot:rds:test-db-2025-06-01-03-10',
          snapshotCreateTime: '2025-06-01T03:10:00.000Z',
          source: 'latest-automated',
          pickedAt: '2025-06-01T04:00:00.000Z',
          scratch: { instanceId: `test-scratch-${runId}`, expiresAt: '2025-06-01T09:00:00.000Z' },
        };
      },
      RestoreScratchInstance: (input) => {
        count('RestoreScratchInstance');
        const p = input as { DbInstanceIdentifier: string; Tags: { Key: string; Value: string }[] };
        if (this.scratch.has(p.DbInstanceIdentifier)) {
          throw awsError('Rds.DbInstanceAlreadyExistsException');
        }
        this.scratch.set(p.DbInstanceIdentifier, { status: 'creating', tags: p.Tags });
        return {
          DbInstance: {
            DbInstanceIdentifier: p.DbInstanceIdentifier,
            DbInstanceStatus: 'creating',
          },
        };
      },
      DescribeScratchInstance: (input) => {
        const n = count('DescribeScratchInstance');
        const id = (input as { DbInstanceIdentifier: string }).DbInstanceIdentifier;
        const instance = this.scratch.get(id);
        if (!instance) throw awsError('Rds.DbInstanceNotFoundException');
        instance.status = this.statuses[Math.min(n - 1, this.statuses.length - 1)] as string;
        return {
          DbInstances: [
            {
              DbInstanceIdentifier: id,
              DbInstanceStatus: instance.status,
              ...(instance.status === 'available'
                ? { Endpoint: { Address: `${id}.abc.eu-west-1.rds.amazonaws.com`, Port: 3306 } }
                : {}),
            },
          ],
        };
      },
      VerifyData: (input) => {
        count('VerifyData');
        const { scratch } = input as { scratch: { host: string; port: number } };
        expect(scratch.port).toBe(3306);
        return {
          passed: true,
          mode: 'manifest',
          checkedTables: ['wp_posts'],
          failures: [],
          connectedAt: '2025-06-01T04:12:00.000Z',
        };
      },
      FindApplicationTaskDefinition: () => ({
        Services: [
          { TaskDefinition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/test-wordpress:7' },
        ],
      }),
      // The production revision, as DescribeTaskDefinition returns it: EFS uploads, live URL.
      RegisterVerificationTaskDefinition: (input) => {
        const p = input as { taskDefinitionArn: string; containerName: string; siteUrl: string };
        const registration = verificationTaskDefinition(
          {
            taskDefinition: {
              taskDefinitionArn: p.taskDefinitionArn,
              family: 'test-wordpress',
              revision: 7,
              status: 'ACTIVE',
              containerDefinitions: [
                {
                  name: 'wordpress',
                  image: '127.0.0.1:5000/wordpress@sha256:'.padEnd(96, 'a'),
                  environment: [{ name: 'WORDPRESS_SITE_URL', value: 'https://www.example.org' }],
                  mountPoints: [
                    {
                      sourceVolume: 'uploads',
                      containerPath: '/var/lib/wordpress/wp-content/uploads',
                      readOnly: false,
                    },
                  ],
                },
              ],
              volumes: [
                {
                  name: 'uploads',
                  efsVolumeConfiguration: { fileSystemId: 'fs-0123456789abcdef0' },
                },
              ],
            },
          },
          p.containerName,
          p.siteUrl,
        );
        const arn = `arn:aws:ecs:eu-west-1:123456789012:task-definition/${registration.family}:${this.verificationRevisions.size + 1}`;
        this.verificationRevisions.set(arn, registration);
        return { taskDefinitionArn: arn, sourceTaskDefinitionArn: p.taskDefinitionArn };
      },
      RunVerificationTask: (input) => {
        const p = input as { TaskDefinition: string; Overrides: unknown };
        expect(p.TaskDefinition).toMatch(/test-wordpress-verify:\d+$/);
        const revision = this.verificationRevisions.get(p.TaskDefinition);
        expect(JSON.stringify(revision)).not.toContain('efsVolumeConfiguration');
        expect(JSON.stringify(revision)).not.toContain('www.example.org');
        expect(JSON.stringify(p.Overrides)).toContain('WORDPRESS_DB_HOST');
        return {
          Tasks: [{ TaskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/test/abc123' }],
          Failures: [],
        };
      },
      VerifyApplication: () => {
        const n = count('VerifyApplication');
        const probe = this.probes[Math.min(n - 1, this.probes.length - 1)] as Json | Error;
        if (probe instanceof Error) throw probe;
        return probe;
      },
      StopVerificationTask: (input) => {
        this.stopped.push((input as { Task: string }).Task);
        return {};
      },
      DeleteScratchInstance: (input) => {
        const p = input as { DbInstanceIdentifier: string; SkipFinalSnapshot: boolean };
        expect(p.SkipFinalSnapshot).toBe(true);
        if (!this.scratch.delete(p.DbInstanceIdentifier)) {
          throw awsError('Rds.DbInstanceNotFoundException');
        }
        this.deleted.push(p.DbInstanceIdentifier);
        return {};
      },
      PublishMetrics: (input) => {
        this.metrics.push(input);
        return { passed: true };
      },
      NotifyFailure: (input) => {
        this.notifications.push((input as { Message: string }).Message);
        return { MessageId: 'm-1' };
      },
    };
    return { ...base, ...(this.overrides as Record<string, StepHandler>) };
  }

  run(input: Json = {}): Promise<LocalExecution> {
    return runLocal(definition, input, { handlers: this.handlers(), executionName: 'run-1' });
  }
}

const SCRATCH = 'test-scratch-run-1';

describe('verify-restore state machine', () => {
  it('happy path: restores, verifies data and application, cleans up, publishes metrics', async () => {
    // Prepare
    const world = new World();
    // Act
    const execution = await world.run({});
    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(world.deleted).toEqual([SCRATCH]);
    expect(world.scratch.size).toBe(0);
    expect(world.stopped).toEqual(['arn:aws:ecs:eu-west-1:123456789012:task/test/abc123']);
    expect(world.notifications).toEqual([]);
    expect(world.calls.DescribeScratchInstance).toBe(3);
    expect(world.calls.VerifyApplication).toBe(2);
    const published = world.metrics[0] as { run: Record<string, unknown> };
    expect(published.run.failure).toBeUndefined();
    expect(published.run.snapshot).toMatchObject({ pickedAt: '2025-06-01T04:00:00.000Z' });
    expect(published.run.data).toMatchObject({ connectedAt: '2025-06-01T04:12:00.000Z' });
  });

  it('tags the scratch instance for the sweeper', async () => {
    // Prepare
    const world = new World();
    let tags: unknown;
    const restore = world.handlers().RestoreScratchInstance as StepHandler;
    world.overrides.RestoreScratchInstance = (input) => {
      tags = (input as { Tags: unknown }).Tags;
      return restore(input);
    };
    // Act
    await world.run({});
    // Assess
    expect(tags).toEqual([
      { Key: 'stepdeploy:scratch', Value: 'true' },
      { Key: 'stepdeploy:run-id', Value: 'run-1' },
      { Key: 'stepdeploy:expires-at', Value: '2025-06-01T09:00:00.000Z' },
    ]);
  });

  it('continues with its own instance when a retried restore finds it already exists', async () => {
    // Prepare
    const world = new World();
    world.scratch.set(SCRATCH, { status: 'creating', tags: [] });
    // Act
    const execution = await world.run({});
    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(world.deleted).toEqual([SCRATCH]);
  });

  const failures: {
    step: string;
    inject: (world: World) => void;
    names: RegExp;
    scratchCreated: boolean;
    taskStarted: boolean;
  }[] = [
    {
      step: 'PickSnapshot',
      inject: (w) => {
        w.overrides.PickSnapshot = () => {
          throw new NoSnapshotError('database test-db has no available automated snapshot');
        };
      },
      names: /step PickSnapshot: NoSnapshotError: .*no available automated snapshot/,
      scratchCreated: false,
      taskStarted: false,
    },
    {
      step: 'RestoreScratchInstance (API error)',
      inject: (w) => {
        w.overrides.RestoreScratchInstance = () => {
          throw awsError('Rds.StorageQuotaExceededException', 'storage quota exceeded');
        };
      },
      names: /step RestoreScratchInstance: Rds\.StorageQuotaExceededException/,
      scratchCreated: false,
      taskStarted: false,
    },
    {
      step: 'RestoreScratchInstance (instance failed)',
      inject: (w) => {
        w.statuses = ['creating', 'incompatible-restore'];
      },
      names: /step RestoreScratchInstance: RestoreFailed: .*incompatible-restore/,
      scratchCreated: true,
      taskStarted: false,
    },
    {
      step: 'VerifyData',
      inject: (w) => {
        w.overrides.VerifyData = () => {
          throw new DataVerificationError([
            'MissingTable:wp_posts',
            'ChecksumMismatch:wp_options expected 1 got 2',
          ]);
        };
      },
      names:
        /step VerifyData: DataVerificationError: .*MissingTable:wp_posts.*ChecksumMismatch:wp_options/,
      scratchCreated: true,
      taskStarted: false,
    },
    {
      step: 'FindApplicationTaskDefinition',
      inject: (w) => {
        w.overrides.FindApplicationTaskDefinition = () => {
          throw awsError('Ecs.ServiceNotFoundException', 'service not found');
        };
      },
      names: /step VerifyApplication: Ecs\.ServiceNotFoundException/,
      scratchCreated: true,
      taskStarted: false,
    },
    {
      step: 'RunVerificationTask',
      inject: (w) => {
        w.overrides.RunVerificationTask = () => ({
          Tasks: [],
          Failures: [
            {
              Arn: 'arn:aws:ecs:eu-west-1:123456789012:container-instance/x',
              Reason: 'RESOURCE:ENI',
            },
          ],
        });
      },
      names: /step VerifyApplication: TaskNotStarted: .*RESOURCE:ENI/,
      scratchCreated: true,
      taskStarted: false,
    },
    {
      step: 'VerifyApplication',
      inject: (w) => {
        w.probes = [
          { state: 'PENDING', detail: 'task provisioning' },
          new ApplicationVerificationError('readyz 503: not-installed'),
        ];
      },
      names: /step VerifyApplication: ApplicationVerificationError: .*readyz 503: not-installed/,
      scratchCreated: true,
      taskStarted: true,
    },
  ];

  it.each(failures)(
    'a failure at $step deletes the scratch instance and names the check',
    async (c) => {
      // Prepare
      const world = new World();
      c.inject(world);
      // Act
      const execution = await world.run({});
      // Assess
      expect(execution.status).toBe('FAILED');
      expect(execution.error).toBe('VerificationFailed');
      expect(world.scratch.size).toBe(0);
      expect(world.deleted).toEqual(c.scratchCreated ? [SCRATCH] : []);
      expect(world.stopped).toHaveLength(c.taskStarted ? 1 : 0);
      expect(world.notifications).toHaveLength(1);
      expect(world.notifications[0]).toMatch(c.names);
      expect(execution.cause).toBe(world.notifications[0]);
      expect((world.metrics[0] as { run: { failure?: unknown } }).run.failure).toBeDefined();
    },
  );

  it('a failed scratch deletion fails the run loudly even when verification passed', async () => {
    // Prepare
    const world = new World();
    world.overrides.DeleteScratchInstance = () => {
      throw awsError('Rds.AccessDeniedException', 'not authorized to delete');
    };
    // Act
    const execution = await world.run({});
    // Assess
    expect(execution.status).toBe('FAILED');
    expect(world.notifications[0]).toMatch(
      /passed but cleanup failed at DeleteScratchInstance: Rds\.AccessDeniedException.*sweeper/,
    );
  });

  it('a failed notification still ends in the failed state', async () => {
    // Prepare
    const world = new World();
    world.overrides.VerifyData = () => {
      throw new DataVerificationError(['MissingTable:wp_users']);
    };
    world.overrides.NotifyFailure = () => {
      throw awsError('Sns.AuthorizationErrorException');
    };
    // Act
    const execution = await world.run({});
    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.cause).toContain('MissingTable:wp_users');
    expect(world.deleted).toEqual([SCRATCH]);
  });

  it('a metrics failure does not hide a passing verification', async () => {
    // Prepare
    const world = new World();
    world.overrides.PublishMetrics = () => {
      throw awsError('TransientAwsError'.replace('Transient', 'Permanent'));
    };
    // Act
    const execution = await world.run({});
    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(world.deleted).toEqual([SCRATCH]);
  });

  it('honours the restore-wait timeout and still deletes the instance', async () => {
    // Prepare
    const world = new World();
    world.statuses = ['creating'];
    // Act
    const execution = await world.run({});
    // Assess
    expect(execution.status).toBe('FAILED');
    expect(world.calls.DescribeScratchInstance).toBe(RESTORE_MAX_POLLS);
    expect(world.calls.VerifyData).toBeUndefined();
    expect(world.notifications[0]).toMatch(
      new RegExp(
        `step RestoreScratchInstance: RestoreTimedOut: .*still creating after ${RESTORE_MAX_POLLS} polls`,
      ),
    );
    expect(world.deleted).toEqual([SCRATCH]);
  });

  it('honours the application timeout, stops the task and deletes the instance', async () => {
    // Prepare
    const world = new World();
    world.probes = [{ state: 'PENDING', detail: 'readyz 503: db-unreachable' }];
    // Act
    const execution = await world.run({});
    // Assess
    expect(execution.status).toBe('FAILED');
    expect(world.calls.VerifyApplication).toBe(APP_MAX_POLLS);
    expect(world.notifications[0]).toMatch(/ApplicationTimedOut: .*db-unreachable/);
    expect(world.stopped).toHaveLength(1);
    expect(world.deleted).toEqual([SCRATCH]);
  });
});
