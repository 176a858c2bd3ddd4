import { execFileSync } from 'node:child_process';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import { TransientAwsError } from '#commons/errors.ts';
import { trialStartedBy } from '#commons/trial-tasks.ts';
import { countTransitions, type Json, runLocal } from '#local/runner.ts';
import { definitionFromTemplate, readCdkOut } from '#local/template.ts';
import { RELEASE_ASL_PATH } from '#stack/constructs/release-state-machine.ts';
import {
  digestOf,
  InjectedFailure,
  inputs,
  NESTED_CAUSE,
  SECRET_VALUE,
  SimulatedAws,
  SnapshotProofs,
} from '#testkit/simulated-aws.ts';
import { buildApp, releaseDefinitionFromAssembly } from '#testkit/synthesized.ts';

/** The release ASL as deployed with `-c releaseVerifyBackup=<mode>`. */
function definitionWithVerifyBackup(mode: 'warn' | 'block'): StateMachineDefinition {
  const { app, application, pipeline } = buildApp({ releaseVerifyBackup: mode });
  const templates = readCdkOut(app.synth().directory, [application.stackName, pipeline.stackName]);
  return definitionFromTemplate({ stack: pipeline.stackName, templates });
}

let definition: StateMachineDefinition;
const withVerifyBackup: Partial<Record<'warn' | 'block', StateMachineDefinition>> = {};
beforeAll(() => {
  definition = releaseDefinitionFromAssembly();
  withVerifyBackup.warn = definitionWithVerifyBackup('warn');
  withVerifyBackup.block = definitionWithVerifyBackup('block');
}, 300_000);

const VERIFY_MACHINE =
  'arn:aws:states:us-east-1:123456789012:stateMachine:stepdeploy-verify-restore';
let executions = 0;
/** A lock held by another running release. */
function runningLock() {
  return {
    service: 'stepdeploy-wordpress',
    holder: 'r-running',
    startedBy: 'carol',
    acquiredAt: '2026-02-01T09:00:00.000Z',
    expiresAt: Math.floor(Date.now() / 1000) + 3600,
  };
}

/** How many times the execution entered a state. */
function visits(aws: SimulatedAws, state: string): number {
  return aws
    .events()
    .filter(
      (e) =>
        (e as { type?: string; state?: { name?: string } }).type === 'StateEntered' &&
        (e as { state?: { name?: string } }).state?.name === state,
    ).length;
}

async function release(
  aws: SimulatedAws,
  input: Json,
  options: { definition?: StateMachineDefinition; proofs?: SnapshotProofs } = {},
) {
  executions += 1;
  const events: Parameters<NonNullable<Parameters<typeof runLocal>[2]['onEvent']>>[0][] = [];
  aws.events = () => events;
  const proofs = options.proofs ?? new SnapshotProofs();
  const result = await runLocal(options.definition ?? definition, input, {
    handlers: { ...aws.handlers(), ...proofs.handlers(aws) },
    executionName: `release-${executions}`,
    onEvent: (e) => events.push(e),
  });
  return result;
}

const AFTER_VALIDATION = [
  'AcquireLock',
  'BuildImage',
  'ReadBuildOutput',
  'RecordSnapshotManifest',
  'SnapshotDatabase',
  'CheckSnapshot',
  'RegisterTaskDefinition',
  'StartTrial',
  'CheckTrial',
  'StopTrial',
  'DeployService',
  'CheckHealth',
  'CheckInstalled',
  'SmokeTest',
  'CompareSchema',
  'RecordRelease',
  'PruneSnapshots',
  'ReleaseLock',
  'Notify',
];

describe('release state machine (synthesized definition, local runner)', () => {
  it('validates as ASL with its placeholders (asl-validator)', () => {
    // Prepare / Act
    const out = execFileSync('npx', ['asl-validator', '--json-path', RELEASE_ASL_PATH], {
      encoding: 'utf8',
    });
    // Assess
    expect(out).toMatch(/is valid/);
  });

  it('resolves every placeholder to a concrete value from the template', () => {
    // Prepare / Act
    const text = JSON.stringify(definition);
    // Assess
    expect(text).not.toMatch(/\$\{[A-Za-z]+\}/);
    expect(text).toContain('arn:aws:lambda:us-east-1:123456789012:function:');
    expect(text).toContain('"TopicArn":"arn:aws:sns:us-east-1:123456789012:');
  });

  it('happy path: builds, snapshots, deploys, gates, records, unlocks and announces', async () => {
    // Prepare
    const aws = new SimulatedAws();
    // Act
    const result = await release(aws, inputs.commit());
    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(new Set(aws.calls)).toEqual(new Set(['ValidateInput', ...AFTER_VALIDATION]));
    expect(aws.calls.slice(0, 2)).toEqual(['ValidateInput', 'AcquireLock']);
    expect(aws.calls.slice(-8)).toEqual([
      'CheckHealth',
      'CheckInstalled',
      'SmokeTest',
      'CompareSchema',
      'RecordRelease',
      'PruneSnapshots',
      'ReleaseLock',
      'Notify',
    ]);
    expect(aws.lock).toBeUndefined();
    expect(aws.serviceTaskDefinition).toMatch(/stepdeploy-wordpress:8$/);
    expect(aws.imageOf(aws.serviceTaskDefinition)).toMatch(/@sha256:/);
    expect(aws.healthGated.has(aws.serviceTaskDefinition)).toBe(true);
    const record = aws.ledger.at(-1);
    expect(record).toMatchObject({
      outcome: 'SUCCEEDED',
      taskDefinitionArn: aws.serviceTaskDefinition,
    });
    expect(Object.keys(record?.durationsMs ?? {})).toEqual(
      expect.arrayContaining(['BuildImage', 'CheckHealth', 'DeployService']),
    );
    expect(aws.notifications).toHaveLength(1);
    expect(aws.notifications[0]?.Message).toMatch(/SUCCEEDED: .*stepdeploy-wordpress:8 is serving/);
    expect(aws.notifications[0]?.Message).toContain(
      'Backup verification: not run (releaseVerifyBackup is off).',
    );
    // The code changed no schema: the ledger says what was compared, the message nothing.
    expect(aws.notifications[0]?.Message).not.toMatch(/schema/i);
    expect(record?.schema).toEqual({
      status: 'READ',
      snapshotId: record?.snapshotId,
      before: { dbVersion: '58975', tables: 2 },
      after: { dbVersion: '58975', tables: 2 },
      change: {
        changed: false,
        dbVersion: { before: '58975', after: '58975' },
        tablesAdded: [],
        tablesRemoved: [],
        columnsAdded: [],
        columnsRemoved: [],
      },
    });
  });

  it('starts the tasks: every UpdateService, the rollback too, sets the configured count', async () => {
    // Prepare: the service was created at 0 tasks (no image before the first release).
    const good = new SimulatedAws();
    const bad = new SimulatedAws();
    bad.buildLabel = 'bad-build';
    bad.badDigests.add(digestOf('bad-build'));
    // Act
    const released = await release(good, inputs.commit());
    const rolledBack = await release(bad, inputs.commit());
    // Assess: desiredCount 2 from the config, through the ${DesiredCount} substitution.
    expect(released.status).toBe('SUCCEEDED');
    expect(good.desiredCounts).toEqual([2]);
    expect(good.desiredCount).toBe(2);
    expect(rolledBack).toMatchObject({ status: 'FAILED', error: 'ROLLED_BACK' });
    expect(bad.calls.filter((c) => c === 'DeployService' || c === 'Rollback')).toEqual([
      'DeployService',
      'Rollback',
    ]);
    expect(bad.desiredCounts).toEqual([2, 2]);
  });

  describe('the health gate paces its own polls', () => {
    /** Each visit of a Wait state: the seconds its SecondsPath resolves to in the state input. */
    function waitsOf(aws: SimulatedAws, state: string): unknown[] {
      const wait = (definition.States as Record<string, { SecondsPath?: string }>)[state];
      const path = (wait?.SecondsPath ?? '').replace(/^\$\./, '').split('.');
      return aws
        .events()
        .filter(
          (e) =>
            (e as { type?: string }).type === 'StateEntered' &&
            (e as { state?: { name?: string } }).state?.name === state,
        )
        .map((e) =>
          path.reduce<unknown>(
            (v, key) => (v as Record<string, unknown> | undefined)?.[key],
            (e as unknown as { state: { input: unknown } }).state.input,
          ),
        );
    }

    it('each release and rollback wait lasts what the last verdict set (the first, what the ASL sets)', async () => {
      // Prepare: targets healthy after 30 s, the old tasks drained 20 s later.
      const good = new SimulatedAws();
      good.timedRollout = { healthyAfterMs: 30_000, drainMs: 20_000 };
      const bad = new SimulatedAws();
      bad.buildLabel = 'bad-build';
      bad.badDigests.add(digestOf('bad-build'));
      // Act
      const released = await release(good, inputs.commit());
      const goodWaits = waitsOf(good, 'WaitForHealth');
      const rolledBack = await release(bad, inputs.commit());
      const rollbackWaits = waitsOf(bad, 'WaitForRollbackHealth');
      // Assess: 5 s (half the 10 s interval) while tasks start, 10 s (one interval) while the
      // old ones drain; the poll that sees the rollout complete passes the gate.
      expect(released.status).toBe('SUCCEEDED');
      expect(goodWaits).toEqual([5, 5, 5, 5, 5, 5, 10, 10]);
      expect(rolledBack).toMatchObject({ status: 'FAILED', error: 'ROLLED_BACK' });
      expect(rollbackWaits.length).toBeGreaterThan(0);
      expect(rollbackWaits.every((s) => Number.isInteger(s) && (s as number) >= 1)).toBe(true);
    });

    it("never waits longer than the release's pollIntervalSeconds", async () => {
      // Prepare
      const aws = new SimulatedAws();
      aws.timedRollout = { healthyAfterMs: 20_000, drainMs: 20_000 };
      // Act
      const result = await release(aws, inputs.commit({ options: { pollIntervalSeconds: 3 } }));
      // Assess
      expect(result.status).toBe('SUCCEEDED');
      expect(
        waitsOf(aws, 'WaitForHealth')
          .slice(1)
          .every((s) => s === 3),
      ).toBe(true);
    });
  });

  describe('first install (CheckInstalled, InstallWordPress)', () => {
    it('an installed site goes from the health gate to SmokeTest without an install task', async () => {
      // Prepare
      const aws = new SimulatedAws();
      // Act
      const result = await release(aws, inputs.commit());
      // Assess
      expect(result.status).toBe('SUCCEEDED');
      expect(aws.calls).not.toContain('InstallWordPress');
      expect((result.output as { install?: unknown }).install).toEqual({
        state: 'INSTALLED',
        status: 200,
        reason: '/readyz answered 200',
      });
    });

    it('a fresh database is installed by a one-off task of the new revision before SmokeTest', async () => {
      // Prepare: /readyz answers not-installed (nothing ran the WordPress installer).
      const aws = new SimulatedAws();
      aws.installed = false;
      // Act
      const result = await release(aws, inputs.commit());
      // Assess
      expect(result.status).toBe('SUCCEEDED');
      const at = (name: string) => aws.calls.indexOf(name);
      expect(at('CheckHealth')).toBeLessThan(at('CheckInstalled'));
      expect(at('CheckInstalled')).toBeLessThan(at('InstallWordPress'));
      expect(at('InstallWordPress')).toBeLessThan(at('SmokeTest'));
      expect(aws.installRuns).toHaveLength(1);
      expect(aws.installRuns[0]).toMatchObject({
        Cluster: expect.stringContaining(':cluster/'),
        TaskDefinition: aws.serviceTaskDefinition,
        LaunchType: 'FARGATE',
        Count: 1,
        NetworkConfiguration: {
          AwsvpcConfiguration: {
            Subnets: [expect.any(String), expect.any(String)],
            SecurityGroups: [expect.any(String)],
            AssignPublicIp: 'DISABLED',
          },
        },
        Overrides: { ContainerOverrides: [{ Name: 'wordpress', Command: ['stepdeploy-install'] }] },
      });
      // Only the command is overridden: no environment (the password comes as an ECS secret).
      expect(JSON.stringify(aws.installRuns[0])).not.toMatch(/Environment|PASSWORD|secret/i);
      expect(aws.ledger.at(-1)).toMatchObject({ outcome: 'SUCCEEDED' });
    });

    it('a RunTask that keeps failing is retried, then rolls back naming InstallWordPress', async () => {
      // Prepare: a fresh database whose install task ECS refuses to start.
      const aws = new SimulatedAws();
      aws.installed = false;
      aws.failures.set('InstallWordPress', {
        times: Number.POSITIVE_INFINITY,
        error: () => Object.assign(new Error('RunTask refused'), { name: 'AmazonECS.Unknown' }),
      });
      // Act
      const result = await release(aws, inputs.commit());
      // Assess: the refused task is retried, then named; the release rolls back.
      expect(result).toMatchObject({ status: 'FAILED', error: 'ROLLED_BACK' });
      expect(aws.calls.filter((c) => c === 'InstallWordPress')).toHaveLength(3);
      expect(aws.calls).not.toContain('SmokeTest');
      expect(aws.notifications[0]?.Message).toMatch(
        /FAILED at step InstallWordPress \(AmazonECS\.Unknown\): RunTask refused/,
      );
    });

    it('an install task that exits non-zero rolls back, naming the step and the exit code', async () => {
      // Prepare: stepdeploy-install exits 69 (database unreachable).
      const aws = new SimulatedAws();
      aws.installed = false;
      aws.installExitCode = 69;
      // Act
      const result = await release(aws, inputs.commit());
      // Assess
      expect(result).toMatchObject({ status: 'FAILED', error: 'ROLLED_BACK' });
      expect(aws.calls).not.toContain('SmokeTest');
      expect(aws.notifications[0]?.Message).toMatch(
        /FAILED at step InstallWordPress \(InstallFailed\): stepdeploy-install exited with 69 \(Essential container in task exited\) in task arn:aws:ecs:[^ ]+install1/,
      );
      expect(aws.ledger.at(-1)).toMatchObject({ outcome: 'ROLLED_BACK' });
    });
  });

  it('redeploys a given image digest without building', async () => {
    // Prepare
    const aws = new SimulatedAws();
    // Act
    const result = await release(aws, inputs.image('redeploy'));
    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(aws.calls).not.toContain('BuildImage');
    expect(aws.imageOf(aws.serviceTaskDefinition)).toContain(digestOf('redeploy'));
  });

  type Expect =
    | 'not-deployed'
    | 'rolled-back'
    | 'dirty'
    | 'released-lock-kept'
    | 'released-unannounced';
  const injections: Array<{ state: string; bad?: boolean; expect: Expect; step?: string }> = [
    { state: 'AcquireLock', expect: 'not-deployed' },
    { state: 'BuildImage', expect: 'not-deployed' },
    { state: 'ReadBuildOutput', expect: 'not-deployed', step: 'BuildImage' },
    { state: 'RecordSnapshotManifest', expect: 'not-deployed' },
    { state: 'SnapshotDatabase', expect: 'not-deployed' },
    { state: 'CheckSnapshot', expect: 'not-deployed', step: 'SnapshotDatabase' },
    { state: 'RegisterTaskDefinition', expect: 'not-deployed' },
    { state: 'StartTrial', expect: 'not-deployed' },
    { state: 'CheckTrial', expect: 'not-deployed' },
    { state: 'DeployService', expect: 'rolled-back' },
    { state: 'CheckHealth', expect: 'rolled-back' },
    { state: 'CheckInstalled', expect: 'rolled-back' },
    { state: 'SmokeTest', expect: 'rolled-back' },
    { state: 'RecordRelease', expect: 'rolled-back' },
    { state: 'FindLastKnownGood', bad: true, expect: 'dirty', step: 'CheckHealth' },
    { state: 'Rollback', bad: true, expect: 'dirty', step: 'CheckHealth' },
    { state: 'CheckRollbackHealth', bad: true, expect: 'dirty', step: 'CheckHealth' },
    { state: 'ReleaseLock', expect: 'released-lock-kept' },
    { state: 'Notify', expect: 'released-unannounced' },
  ];

  it.each(injections)(
    'failure injected at $state ends safely ($expect)',
    async ({ state, bad, expect: outcome, step }) => {
      // Prepare
      const aws = new SimulatedAws();
      const before = aws.serviceTaskDefinition;
      aws.failures.set(state, {
        times: Number.POSITIVE_INFINITY,
        error: () => new InjectedFailure(state),
      });
      if (bad) aws.buildLabel = 'bad-build';
      aws.badDigests.add(digestOf('bad-build'));
      // Act
      const result = await release(aws, inputs.commit());
      // Assess
      const failingStep = step ?? state;
      const note = aws.notifications[0];
      switch (outcome) {
        case 'not-deployed':
          expect(result).toMatchObject({ status: 'FAILED', error: 'FAILED' });
          expect(aws.calls).not.toContain('DeployService');
          expect(aws.serviceTaskDefinition).toBe(before);
          break;
        case 'rolled-back':
          expect(result).toMatchObject({ status: 'FAILED', error: 'ROLLED_BACK' });
          expect(aws.serviceTaskDefinition).toBe(before);
          expect(aws.calls).toContain('CheckRollbackHealth');
          break;
        case 'dirty':
          expect(result).toMatchObject({ status: 'FAILED', error: 'FailureDirty' });
          expect(note?.severity).toBe('critical');
          expect(note?.Message).toMatch(/ROLLBACK FAILED \(InjectedFailure: injected failure in/);
          break;
        case 'released-lock-kept':
          expect(result.status).toBe('SUCCEEDED');
          // The lock could not be deleted, so its lease is what frees the service.
          expect(aws.lock?.expiresAt).toBeGreaterThan(Date.now() / 1000);
          break;
        case 'released-unannounced':
          expect(result.status).toBe('SUCCEEDED');
          expect(aws.notifications).toHaveLength(0);
          expect((result.output as { notifyError?: { Error?: string } }).notifyError?.Error).toBe(
            'InjectedFailure',
          );
          break;
      }
      if (outcome !== 'released-lock-kept') expect(aws.lock).toBeUndefined();
      if (outcome !== 'dirty') expect(aws.healthGated.has(aws.serviceTaskDefinition)).toBe(true);
      if (outcome !== 'released-unannounced' && outcome !== 'released-lock-kept') {
        expect(aws.notifications).toHaveLength(1);
        expect(note?.Message).toContain(`at step ${failingStep}`);
        expect(note?.Message).toMatch(
          bad
            ? /at step CheckHealth \(HealthCheckFailed\): target \S+ unhealthy \(Target\.ResponseCodeMismatch/
            : new RegExp(`injected failure in ${state}`),
        );
      }
    },
  );

  it('a deployment that never gets healthy rolls back to the last known-good revision, not N-1', async () => {
    // Prepare: revision 7 runs but came from a dirty release; revision 6 is the last good one.
    const aws = new SimulatedAws();
    aws.ledger = [
      aws.record(
        'r-5',
        'SUCCEEDED',
        'arn:aws:ecs:us-east-1:123456789012:task-definition/stepdeploy-wordpress:6',
        '2026-01-01T00:00:00.000Z',
      ),
      aws.record(
        'r-6',
        'DIRTY',
        'arn:aws:ecs:us-east-1:123456789012:task-definition/stepdeploy-wordpress:7',
        '2026-01-02T00:00:00.000Z',
      ),
    ];
    aws.buildLabel = 'bad-build';
    aws.badDigests.add(digestOf('bad-build'));
    // Act
    const result = await release(aws, inputs.commit());
    // Assess
    expect(result).toMatchObject({ status: 'FAILED', error: 'ROLLED_BACK' });
    expect(aws.serviceTaskDefinition).toMatch(/stepdeploy-wordpress:6$/);
    expect(aws.healthGated.has(aws.serviceTaskDefinition)).toBe(true);
    expect(aws.notifications[0]?.Message).toMatch(
      /at step CheckHealth \(HealthCheckFailed\): target 10\.0\.1\.10:8080 unhealthy \(Target\.ResponseCodeMismatch.*\(no healthy target is serving\)/,
    );
    expect(aws.ledger.at(-1)).toMatchObject({
      outcome: 'ROLLED_BACK',
      rollbackTaskDefinitionArn: expect.stringMatching(/:6$/),
    });
  });

  it('a rollback target that is unhealthy too ends in FailureDirty', async () => {
    // Prepare
    const aws = new SimulatedAws();
    aws.buildLabel = 'bad-build';
    aws.badDigests.add(digestOf('bad-build'));
    aws.badDigests.add(digestOf('rev-7'));
    // Act
    const result = await release(aws, inputs.commit());
    // Assess
    expect(result).toMatchObject({ status: 'FAILED', error: 'FailureDirty' });
    expect(aws.lock).toBeUndefined();
    expect(aws.notifications[0]).toMatchObject({ severity: 'critical', outcome: 'DIRTY' });
    expect(aws.ledger.at(-1)?.outcome).toBe('DIRTY');
  });

  it.each([
    [
      'no IMAGE_URI',
      [{ Name: 'IMAGE_DIGEST', Value: digestOf('good') }],
      /exported no IMAGE_URI \(exported: IMAGE_DIGEST\)/,
    ],
    ['no exported variables at all', [], /exported no IMAGE_URI and IMAGE_DIGEST/],
    [
      'an empty IMAGE_URI',
      [
        { Name: 'IMAGE_URI', Value: '' },
        { Name: 'IMAGE_DIGEST', Value: digestOf('good') },
      ],
      /exported no IMAGE_URI/,
    ],
  ])(
    'a build that exported %s fails at BuildImage, recorded, announced and unlocked',
    async (_name, exported, cause) => {
      // Prepare
      const aws = new SimulatedAws();
      const before = aws.serviceTaskDefinition;
      aws.exportedVariables = exported;
      // Act
      const result = await release(aws, inputs.commit({ releaseId: 'r-no-image' }));
      // Assess: a named, caught error (not States.Runtime), so every safe-ending step ran.
      expect(result).toMatchObject({ status: 'FAILED', error: 'FAILED' });
      expect(aws.calls).not.toContain('RegisterTaskDefinition');
      expect(aws.serviceTaskDefinition).toBe(before);
      expect(aws.lock).toBeUndefined();
      expect(aws.calls.slice(-3)).toEqual(['RecordRelease', 'ReleaseLock', 'Notify']);
      expect(aws.ledger.at(-1)).toMatchObject({
        releaseId: 'r-no-image',
        outcome: 'FAILED',
        failure: { step: 'BuildImage', error: 'BuildOutputError' },
      });
      expect(aws.ledger.at(-1)?.failure?.reason).toMatch(cause);
      expect(aws.notifications).toHaveLength(1);
      expect(aws.notifications[0]?.Message).toMatch(
        /FAILED at step BuildImage \(BuildOutputError\): build stepdeploy-image:\S+ succeeded but exported no IMAGE_URI/,
      );
      expect(aws.notifications[0]?.Message).toMatch(/Nothing was deployed\.$/);
    },
  );

  it('retries throttling and transient errors, then succeeds', async () => {
    // Prepare
    const aws = new SimulatedAws();
    aws.failures.set('AcquireLock', {
      times: 2,
      error: () => new TransientAwsError('PutItem lock: ThrottlingException: Rate exceeded'),
    });
    aws.failures.set('CheckHealth', {
      times: 1,
      error: () =>
        Object.assign(new Error('Rate exceeded'), { name: 'Lambda.TooManyRequestsException' }),
    });
    // Act
    const result = await release(aws, inputs.commit());
    // Assess
    expect(result.status).toBe('SUCCEEDED');
    const retried = result.events
      .filter((e) => e?.type === 'StateRetried')
      .map((e) => (e as { state: { name: string } }).state.name);
    expect(retried).toEqual(['AcquireLock', 'AcquireLock', 'CheckHealth']);
  });

  it('does not retry a non-transient error', async () => {
    // Prepare
    const aws = new SimulatedAws();
    aws.failures.set('RegisterTaskDefinition', {
      times: 1,
      error: () => new InjectedFailure('RegisterTaskDefinition'),
    });
    // Act
    const result = await release(aws, inputs.commit());
    // Assess
    expect(result.status).toBe('FAILED');
    expect(aws.calls.filter((c) => c === 'RegisterTaskDefinition')).toHaveLength(1);
  });

  it('waits while another release holds the lock, then releases once it is freed', async () => {
    // Prepare
    const aws = new SimulatedAws();
    aws.lock = runningLock();
    aws.onLockPoll = (poll) => {
      if (poll === 3) aws.lock = undefined;
    };
    // Act
    const result = await release(aws, inputs.commit());
    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(aws.calls.filter((c) => c === 'AcquireLock')).toHaveLength(3);
    expect(visits(aws, 'WaitForLock')).toBe(2);
    expect(aws.lock).toBeUndefined();
  });

  it('a release waiting for the lock is superseded by a newer one: nothing built, announced', async () => {
    // Prepare
    const aws = new SimulatedAws();
    aws.lock = runningLock();
    aws.onLockPoll = (poll) => {
      if (poll === 2)
        aws.queue = {
          service: 'stepdeploy-wordpress#queue',
          newest: 'r-newer',
          newestStartedAt: new Date(Date.now() + 1000).toISOString(),
          startedBy: 'dave',
          expiresAt: Math.floor(Date.now() / 1000) + 7200,
        };
    };
    // Act
    const result = await release(aws, inputs.commit());
    // Assess
    expect(result).toMatchObject({ status: 'FAILED', error: 'SUPERSEDED' });
    expect(aws.calls).toEqual(['ValidateInput', 'AcquireLock', 'AcquireLock', 'Notify']);
    expect(aws.lock?.holder).toBe('r-running');
    expect(aws.notifications[0]?.Subject).toMatch(/^stepdeploy SUPERSEDED: /);
    expect(aws.notifications[0]?.Message).toMatch(
      /was superseded by release r-newer started by dave .*Nothing was changed\./,
    );
  });

  it('gives up, REFUSED and naming the holder, after waiting longer than a lease', async () => {
    // Prepare
    const aws = new SimulatedAws();
    aws.lock = runningLock();
    aws.leaseSeconds = 0;
    // Act
    const result = await release(aws, inputs.commit());
    // Assess
    expect(result).toMatchObject({ status: 'FAILED', error: 'REFUSED' });
    expect(result.cause).toMatch(
      /waited longer than the lock's lease \(0 s\) and .*locked by release r-running started by carol/,
    );
    expect(aws.lock?.holder).toBe('r-running');
    // It asks until a poll finds it waited a lease (0 s here: the first or a later one).
    expect(aws.calls.filter((c) => c !== 'AcquireLock')).toEqual(['ValidateInput', 'Notify']);
    expect(aws.notifications[0]?.Message).toMatch(/refused at step AcquireLock: waited longer/);
  });

  it.each([
    ['no source', { startedBy: 'a' }, /source: /],
    [
      'a short commit id',
      { source: { type: 'codecommit', commitId: 'abc' }, startedBy: 'a' },
      /source\.commitId/,
    ],
    [
      'an image by tag',
      { source: { type: 'image', imageUri: 'repo:latest' }, startedBy: 'a' },
      /source\.imageUri/,
    ],
    [
      'an unknown field',
      { source: { type: 'codecommit', commitId: 'a'.repeat(40) }, startedBy: 'a', password: 'x' },
      /password/,
    ],
    ['not an object', 'release please', /\(input\)/],
  ] as Array<[string, Json, RegExp]>)(
    'refuses %s before any side effect',
    async (_name, input, reason) => {
      // Prepare
      const aws = new SimulatedAws();
      // Act
      const result = await release(aws, input);
      // Assess
      expect(result).toMatchObject({ status: 'FAILED', error: 'REJECTED' });
      expect(result.cause).toMatch(reason);
      expect(aws.calls).toEqual(['ValidateInput']);
      expect(aws.notifications).toHaveLength(0);
    },
  );

  it('keeps secrets and task definitions out of every execution event', async () => {
    // Prepare
    const aws = new SimulatedAws();
    aws.buildLabel = 'bad-build';
    aws.badDigests.add(digestOf('bad-build'));
    // Act
    const result = await release(aws, inputs.commit());
    // Assess
    const everything = JSON.stringify(result.events);
    expect(result.events.length).toBeGreaterThan(40);
    expect(everything).not.toContain(SECRET_VALUE);
    expect(everything).not.toContain('secretsmanager');
    expect(everything).not.toContain('containerDefinitions');
    expect(JSON.stringify(aws.ledger)).not.toContain('secretsmanager');
  });

  it('counts transitions from the events', async () => {
    // Prepare
    const aws = new SimulatedAws();
    // Act
    const result = await release(aws, inputs.commit());
    // Assess
    expect(countTransitions(result.events)).toBe(
      result.events.filter((e) => e?.type === 'StateEntered').length,
    );
  });
});

describe('release snapshots: manifest and nested backup verification', () => {
  type Branch = { States: Record<string, Record<string, unknown>> };
  const branches = (d: StateMachineDefinition) =>
    (d.States.BuildAndSnapshot as unknown as { Branches: Branch[] }).Branches;

  it('records the manifest before the snapshot and verifies it beside the build', () => {
    // Prepare
    const [build, snapshot] = branches(withVerifyBackup.block as StateMachineDefinition);
    // Act
    const states = snapshot?.States ?? {};
    // Assess: the build's Task gets an explicit timeout (the local runner's default is 60 s)
    expect(build?.States.BuildImage?.TimeoutSeconds).toBe(3600);
    expect((snapshot as unknown as { StartAt: string }).StartAt).toBe('RecordSnapshotManifest');
    expect(states.RecordSnapshotManifest?.Next).toBe('SnapshotDatabase');
    expect(states.VerifyBackup).toMatchObject({
      Resource: 'arn:aws:states:::states:startExecution.sync:2',
      Parameters: { StateMachineArn: VERIFY_MACHINE },
    });
  });

  it('block: a failing nested verification fails the release before deploy, unlocked and announced', async () => {
    // Prepare
    const aws = new SimulatedAws();
    const before = aws.serviceTaskDefinition;
    const proofs = new SnapshotProofs();
    proofs.nested = 'fail';
    // Act
    const result = await release(aws, inputs.commit({ releaseId: 'r-verify-block' }), {
      definition: withVerifyBackup.block,
      proofs,
    });
    // Assess
    expect(result).toMatchObject({ status: 'FAILED', error: 'FAILED' });
    expect(aws.calls).not.toContain('RegisterTaskDefinition');
    expect(aws.calls).not.toContain('DeployService');
    expect(aws.serviceTaskDefinition).toBe(before);
    expect(aws.lock).toBeUndefined();
    expect(aws.notifications).toHaveLength(1);
    expect(aws.notifications[0]?.Message).toMatch(
      /^Release r-verify-block of \S+ FAILED at step VerifyBackup \(VerificationFailed\): /,
    );
    expect(aws.notifications[0]?.Message).toContain(`: ${NESTED_CAUSE}. Nothing was deployed.`);
    expect(aws.ledger.at(-1)).toMatchObject({
      outcome: 'FAILED',
      failure: { step: 'VerifyBackup', error: 'VerificationFailed', reason: NESTED_CAUSE },
    });
    // The nested run verified this release's snapshot and names its parent.
    expect(proofs.nestedRuns).toEqual([
      {
        StateMachineArn: VERIFY_MACHINE,
        Name: 'r-verify-block-verify',
        Input: {
          snapshotId: 'stepdeploy-release-r-verify-block',
          AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: expect.stringMatching(
            new RegExp(`:execution:local:release-${executions}$`),
          ),
        },
      },
    ]);
    expect(aws.calls.indexOf('CheckSnapshot')).toBeLessThan(aws.calls.indexOf('VerifyBackup'));
  });

  it('block: a passing nested verification lets the release deploy', async () => {
    // Prepare
    const aws = new SimulatedAws();
    // Act
    const result = await release(aws, inputs.commit(), { definition: withVerifyBackup.block });
    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(aws.calls).toContain('VerifyBackup');
    expect(aws.notifications[0]?.Message).toMatch(
      /Backup verification: passed \(arn:aws:states:us-east-1:123456789012:execution:stepdeploy-verify-restore:\S+-verify\)\.$/,
    );
  });

  it.each([
    [
      'an aborted nested run (no error of its own)',
      'aborted',
      'States.TaskFailed',
      /"Status":"ABORTED"/,
    ],
    ['a timed-out task', 'timeout', 'States.Timeout', /Task timed out after 5400 seconds/],
  ] as const)(
    'block: %s fails the release at VerifyBackup with the raw error',
    async (_name, nested, error, cause) => {
      // Prepare
      const aws = new SimulatedAws();
      const proofs = new SnapshotProofs();
      proofs.nested = nested;
      // Act
      const result = await release(aws, inputs.commit(), {
        definition: withVerifyBackup.block,
        proofs,
      });
      // Assess
      expect(result).toMatchObject({ status: 'FAILED', error: 'FAILED' });
      expect(aws.calls).not.toContain('DeployService');
      expect(aws.lock).toBeUndefined();
      expect(aws.notifications[0]?.Message).toContain(`at step VerifyBackup (${error}): `);
      expect(aws.notifications[0]?.Message).toMatch(cause);
    },
  );

  it('retries a nested start refused for the execution limit, then verifies', async () => {
    // Prepare
    const aws = new SimulatedAws();
    aws.failures.set('VerifyBackup', {
      times: 1,
      error: () =>
        Object.assign(new Error('Execution limit exceeded'), {
          name: 'StepFunctions.ExecutionLimitExceededException',
        }),
    });
    // Act
    const result = await release(aws, inputs.commit(), { definition: withVerifyBackup.block });
    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(aws.calls.filter((c) => c === 'VerifyBackup')).toHaveLength(2);
  });

  it('warn: a failing nested verification is announced with the release, which carries on', async () => {
    // Prepare
    const aws = new SimulatedAws();
    const proofs = new SnapshotProofs();
    proofs.nested = 'fail';
    // Act
    const result = await release(aws, inputs.commit(), {
      definition: withVerifyBackup.warn,
      proofs,
    });
    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(aws.serviceTaskDefinition).toMatch(/stepdeploy-wordpress:8$/);
    expect(aws.lock).toBeUndefined();
    expect(aws.notifications[0]?.Message).toContain(
      `Backup verification: FAILED, not blocking (releaseVerifyBackup is warn): VerificationFailed: ${NESTED_CAUSE}.`,
    );
    expect(
      (result.output as { artifacts: { snapshot: { verification: unknown } } }).artifacts.snapshot
        .verification,
    ).toMatchObject({ status: 'WARNED', error: 'VerificationFailed', cause: NESTED_CAUSE });
  });

  it.each(['warn', 'block'] as const)(
    '%s: options.skipRestoreTest skips the nested run',
    async (mode) => {
      // Prepare
      const aws = new SimulatedAws();
      const proofs = new SnapshotProofs();
      proofs.nested = 'fail';
      // Act
      const result = await release(aws, inputs.commit({ options: { skipRestoreTest: true } }), {
        definition: withVerifyBackup[mode],
        proofs,
      });
      // Assess
      expect(result.status).toBe('SUCCEEDED');
      expect(proofs.nestedRuns).toEqual([]);
      expect(aws.notifications[0]?.Message).toContain(
        'Backup verification: skipped by the skipRestoreTest option.',
      );
    },
  );

  it('off (the default): never starts the nested run', async () => {
    // Prepare
    const aws = new SimulatedAws();
    const proofs = new SnapshotProofs();
    proofs.nested = 'fail';
    // Act
    const result = await release(aws, inputs.commit(), { proofs });
    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(proofs.nestedRuns).toEqual([]);
  });

  it('writes the manifest under manifestKey(snapshotId) before CreateDBSnapshot and keeps its location', async () => {
    // Prepare
    const aws = new SimulatedAws();
    const proofs = new SnapshotProofs();
    // Act
    const result = await release(aws, inputs.commit({ releaseId: 'r-manifest' }), { proofs });
    // Assess
    const manifest = proofs.manifests.get('manifests/stepdeploy-release-r-manifest.json');
    expect(manifest?.snapshotId).toBe('stepdeploy-release-r-manifest');
    expect(manifest?.recordedBefore).not.toContain('SnapshotDatabase');
    expect(aws.calls).toContain('SnapshotDatabase');
    expect(
      (result.output as { artifacts: { snapshot: { manifest: unknown } } }).artifacts.snapshot
        .manifest,
    ).toMatchObject({
      location: 's3://stepdeploy-manifests/manifests/stepdeploy-release-r-manifest.json',
      consistency: 'before-snapshot',
    });
  });

  it('a manifest that cannot be recorded fails the release before the snapshot, naming the step', async () => {
    // Prepare
    const aws = new SimulatedAws();
    aws.failures.set('RecordSnapshotManifest', {
      times: Number.POSITIVE_INFINITY,
      error: () =>
        Object.assign(new Error('cannot connect to the live database at db:3306: ETIMEDOUT'), {
          name: 'LiveDatabaseError',
        }),
    });
    // Act
    const result = await release(aws, inputs.commit(), { definition: withVerifyBackup.block });
    // Assess
    expect(result).toMatchObject({ status: 'FAILED', error: 'FAILED' });
    expect(aws.calls).not.toContain('SnapshotDatabase');
    expect(aws.calls).not.toContain('VerifyBackup');
    expect(aws.calls).not.toContain('DeployService');
    expect(aws.lock).toBeUndefined();
    expect(aws.notifications[0]?.Message).toMatch(
      /at step RecordSnapshotManifest \(LiveDatabaseError\): cannot connect to the live database at db:3306: ETIMEDOUT\. Nothing was deployed\.$/,
    );
  });
});

describe('the trial task: a new revision is asked directly before it takes any traffic', () => {
  it('a passing trial is stopped before the rollout starts', async () => {
    // Prepare
    const aws = new SimulatedAws();
    // Act
    const result = await release(aws, inputs.commit());
    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(aws.trials).toEqual([
      expect.objectContaining({
        taskDefinitionArn: aws.serviceTaskDefinition,
        stopped: true,
        // What FreeAbandonedLock looks for if the execution ends mid-trial.
        startedBy: trialStartedBy(
          String((result.output as { release?: { releaseId?: string } }).release?.releaseId),
        ),
      }),
    ]);
    const order = (name: string) => aws.calls.indexOf(name);
    expect(order('StartTrial')).toBeGreaterThan(order('RegisterTaskDefinition'));
    expect(order('StopTrial')).toBeLessThan(order('DeployService'));
  });

  it.each([
    {
      image: 'broken (500 on /healthz)',
      arrange: (aws: SimulatedAws) => aws.brokenDigests.add(digestOf('bad-build')),
      reason:
        /the trial task answered wrongly 2 time\(s\) in a row: \/healthz answered 500: unhealthy/,
      polls: 3,
    },
    {
      image: 'crashing at start',
      arrange: (aws: SimulatedAws) => aws.crashingDigests.add(digestOf('bad-build')),
      reason:
        /the trial task stopped before it served: Essential container in task exited; wordpress exit 3/,
      polls: 2,
    },
  ])(
    'a $image image is refused by the trial: nothing deployed, the trial stopped, announced',
    async ({ arrange, reason, polls }) => {
      // Prepare
      const aws = new SimulatedAws();
      const before = aws.serviceTaskDefinition;
      aws.buildLabel = 'bad-build';
      arrange(aws);
      // Act
      const result = await release(aws, inputs.commit({ releaseId: 'r-trial' }));
      // Assess
      expect(result).toMatchObject({ status: 'FAILED', error: 'FAILED' });
      expect(aws.calls).not.toContain('DeployService');
      expect(aws.calls.filter((c) => c === 'CheckTrial')).toHaveLength(polls);
      expect(aws.serviceTaskDefinition).toBe(before);
      expect(aws.desiredCounts).toEqual([]);
      expect(aws.trials).toEqual([expect.objectContaining({ stopped: true })]);
      expect(aws.lock).toBeUndefined();
      const note = aws.notifications[0];
      expect(note?.outcome).toBe('FAILED');
      expect(note?.Message).toMatch(/FAILED at step CheckTrial \(TrialFailed\): /);
      expect(note?.Message).toMatch(reason);
      expect(note?.Message).toMatch(
        /The trial task of \S+:8 was refused before it took any traffic; the service was not changed\.$/,
      );
      expect(aws.ledger.at(-1)).toMatchObject({ releaseId: 'r-trial', outcome: 'FAILED' });
    },
  );

  it('a trial ECS could not place fails naming its reason, with no task to stop', async () => {
    // Prepare
    const aws = new SimulatedAws();
    const before = aws.serviceTaskDefinition;
    aws.trialPlacementFailure = 'RESOURCE:ENI';
    // Act
    const result = await release(aws, inputs.commit());
    // Assess
    expect(result).toMatchObject({ status: 'FAILED', error: 'FAILED' });
    expect(aws.calls).not.toContain('StopRefusedTrial');
    expect(aws.calls).not.toContain('DeployService');
    expect(aws.serviceTaskDefinition).toBe(before);
    expect(aws.notifications[0]?.Message).toMatch(
      /at step CheckTrial \(TrialFailed\): RunTask started no trial task: RESOURCE:ENI\./,
    );
  });

  it('a trial StopTrial cannot stop does not stop a passing release; ReleaseLock stops it', async () => {
    // Prepare
    const aws = new SimulatedAws();
    aws.failures.set('StopTrial', {
      times: Number.POSITIVE_INFINITY,
      error: () => new InjectedFailure('StopTrial'),
    });
    // Act
    const result = await release(aws, inputs.commit());
    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(
      (result.output as { trial?: { stopError?: { Error?: string } } }).trial?.stopError?.Error,
    ).toBe('InjectedFailure');
    expect(aws.trials).toMatchObject([{ stopped: true }]);
    expect((result.output as { unlock?: unknown }).unlock).toEqual({
      released: true,
      trialsStopped: [aws.trials[0]?.taskArn],
    });
  });

  it('a refused trial whose code changed the schema says so, naming the snapshot that undoes it', async () => {
    // Prepare
    const aws = new SimulatedAws();
    aws.buildLabel = 'bad-build';
    aws.brokenDigests.add(digestOf('bad-build'));
    aws.schemaOnDeploy = (schema) => ({
      ...schema,
      tables: { ...schema.tables, wp_trial_log: ['id'] },
    });
    // Act
    const result = await release(aws, inputs.commit({ releaseId: 'r-trial-schema' }));
    // Assess
    expect(result).toMatchObject({ status: 'FAILED', error: 'FAILED' });
    const snapshot = aws.ledger.at(-1)?.snapshotId;
    expect(aws.notifications[0]?.Message).toMatch(
      new RegExp(
        `refused before it took any traffic; the service was not changed\\. The trial task's code changed the schema before it was refused: db_version 58975 unchanged; tables added: wp_trial_log; restore the pre-release snapshot ${snapshot} to undo it\\.$`,
      ),
    );
  });
});

describe('schema changes (CompareSchema)', () => {
  /** What a release's code does on its first load: a table of its own and a column on posts. */
  const addsTableAndColumn = (schema: SimulatedAws['schema']): SimulatedAws['schema'] => ({
    ...schema,
    tables: {
      ...schema.tables,
      wp_posts: [...(schema.tables.wp_posts ?? []), 'shop_flag'],
      wp_shop_log: ['id', 'note'],
    },
  });
  const badRelease = (aws: SimulatedAws) => {
    aws.buildLabel = 'bad-build';
    aws.badDigests.add(digestOf('bad-build'));
  };

  it('a rolled-back release that changed the schema says the schema was not rolled back, naming the snapshot', async () => {
    // Prepare
    const aws = new SimulatedAws();
    badRelease(aws);
    aws.schemaOnDeploy = addsTableAndColumn;
    const proofs = new SnapshotProofs();
    // Act
    const result = await release(aws, inputs.commit({ releaseId: 'r-schema' }), { proofs });
    // Assess
    const snapshot = 'stepdeploy-release-r-schema';
    const sentence = `The code was rolled back but the schema was not: db_version 58975 unchanged; tables added: wp_shop_log; columns added: wp_posts.shop_flag; restore the pre-release snapshot ${snapshot} to undo it.`;
    expect(result).toMatchObject({ status: 'FAILED', error: 'ROLLED_BACK' });
    expect(aws.serviceTaskDefinition).toMatch(/stepdeploy-wordpress:7$/);
    expect(result.cause).toMatch(/Rolled back to \S+ \(.*\), which is healthy\./);
    expect(result.cause?.endsWith(` ${sentence}`)).toBe(true);
    expect(aws.notifications).toHaveLength(1);
    expect(aws.notifications[0]).toMatchObject({ outcome: 'ROLLED_BACK', severity: 'high' });
    expect(aws.notifications[0]?.Message).toBe(result.cause);
    expect(proofs.comparisons).toEqual([{ snapshotId: snapshot, outcome: 'ROLLED_BACK' }]);
    expect(aws.calls.indexOf('CheckRollbackHealth')).toBeLessThan(
      aws.calls.indexOf('CompareSchema'),
    );
    expect(aws.ledger.at(-1)).toMatchObject({
      outcome: 'ROLLED_BACK',
      snapshotId: snapshot,
      schema: {
        status: 'READ',
        snapshotId: snapshot,
        before: { dbVersion: '58975', tables: 2 },
        after: { dbVersion: '58975', tables: 3 },
        change: {
          changed: true,
          tablesAdded: ['wp_shop_log'],
          columnsAdded: ['wp_posts.shop_flag'],
        },
      },
    });
    expect(JSON.stringify(aws.ledger.at(-1))).not.toContain('"note"');
  });

  it('a rolled-back release that changed nothing says nothing about the schema', async () => {
    // Prepare
    const aws = new SimulatedAws();
    badRelease(aws);
    // Act
    const result = await release(aws, inputs.commit());
    // Assess
    expect(result).toMatchObject({ status: 'FAILED', error: 'ROLLED_BACK' });
    expect(result.cause).not.toMatch(/schema/i);
    expect(result.cause).toMatch(/Backup verification: not run \(releaseVerifyBackup is off\)\.$/);
    expect(aws.ledger.at(-1)?.schema).toMatchObject({ status: 'READ', change: { changed: false } });
  });

  it('a successful release that changed the schema says so: a later rollback would keep it', async () => {
    // Prepare
    const aws = new SimulatedAws();
    aws.schemaOnDeploy = (schema) => ({ ...addsTableAndColumn(schema), dbVersion: '60421' });
    // Act
    const result = await release(aws, inputs.commit());
    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(aws.notifications[0]?.Message).toMatch(
      /\. The release changed the schema: db_version 58975 → 60421; tables added: wp_shop_log; columns added: wp_posts\.shop_flag\.$/,
    );
    expect(aws.ledger.at(-1)?.schema).toMatchObject({
      status: 'READ',
      after: { dbVersion: '60421', tables: 3 },
    });
  });

  it('a failing CompareSchema never makes a rollback worse: ROLLED_BACK, recorded as not read', async () => {
    // Prepare
    const aws = new SimulatedAws();
    badRelease(aws);
    aws.failures.set('CompareSchema', {
      times: Number.POSITIVE_INFINITY,
      error: () =>
        Object.assign(new Error('cannot connect to the live database at db:3306: ETIMEDOUT'), {
          name: 'LiveDatabaseError',
        }),
    });
    // Act
    const result = await release(aws, inputs.commit({ releaseId: 'r-unread' }));
    // Assess
    expect(result).toMatchObject({ status: 'FAILED', error: 'ROLLED_BACK' });
    expect(aws.serviceTaskDefinition).toMatch(/stepdeploy-wordpress:7$/);
    expect(aws.lock).toBeUndefined();
    expect(aws.calls.slice(-3)).toEqual(['RecordRelease', 'ReleaseLock', 'Notify']);
    expect(aws.ledger.at(-1)).toMatchObject({
      outcome: 'ROLLED_BACK',
      schema: {
        status: 'NOT_READ',
        snapshotId: 'stepdeploy-release-r-unread',
        reason:
          'schema not read: LiveDatabaseError: cannot connect to the live database at db:3306: ETIMEDOUT',
      },
    });
    expect(aws.notifications[0]?.Message).toMatch(
      /which is healthy\. .* The schema the release left was not read \(LiveDatabaseError: cannot connect to the live database at db:3306: ETIMEDOUT\); compare it with the pre-release snapshot stepdeploy-release-r-unread by hand\.$/,
    );
  });

  it('a failing CompareSchema on a success leaves it Released, and on a dirty rollback FailureDirty', async () => {
    // Prepare
    const good = new SimulatedAws();
    const dirty = new SimulatedAws();
    badRelease(dirty);
    dirty.badDigests.add(digestOf('rev-7'));
    for (const aws of [good, dirty])
      aws.failures.set('CompareSchema', {
        times: Number.POSITIVE_INFINITY,
        error: () => new InjectedFailure('CompareSchema'),
      });
    // Act
    const released = await release(good, inputs.commit());
    const failed = await release(dirty, inputs.commit());
    // Assess
    expect(released.status).toBe('SUCCEEDED');
    expect(good.ledger.at(-1)).toMatchObject({
      outcome: 'SUCCEEDED',
      schema: { status: 'NOT_READ' },
    });
    expect(good.calls).toContain('PruneSnapshots');
    expect(failed).toMatchObject({ status: 'FAILED', error: 'FailureDirty' });
    expect(dirty.notifications[0]).toMatchObject({ severity: 'critical', outcome: 'DIRTY' });
    expect(dirty.ledger.at(-1)).toMatchObject({ outcome: 'DIRTY', schema: { status: 'NOT_READ' } });
  });

  it('a dirty rollback after a schema change names the change and the snapshot that holds the schema it found', async () => {
    // Prepare
    const aws = new SimulatedAws();
    badRelease(aws);
    aws.badDigests.add(digestOf('rev-7'));
    aws.schemaOnDeploy = addsTableAndColumn;
    // Act
    const result = await release(aws, inputs.commit({ releaseId: 'r-dirty' }));
    // Assess
    expect(result).toMatchObject({ status: 'FAILED', error: 'FailureDirty' });
    expect(result.cause).toMatch(
      /ROLLBACK FAILED .* The release changed the schema and nothing rolled it back: db_version 58975 unchanged; tables added: wp_shop_log; columns added: wp_posts\.shop_flag; the pre-release snapshot stepdeploy-release-r-dirty holds the schema it found\.$/,
    );
  });

  it('an unrecorded success is rolled back, and then said as a rollback, not as a success', async () => {
    // Prepare: the ledger write fails once, so the success is rolled back (an unrecorded
    // success is invisible to later rollbacks) and recorded on the second write.
    const aws = new SimulatedAws();
    aws.schemaOnDeploy = addsTableAndColumn;
    aws.failures.set('RecordRelease', {
      times: 1,
      error: () => new InjectedFailure('RecordRelease'),
    });
    const proofs = new SnapshotProofs();
    // Act
    const result = await release(aws, inputs.commit(), { proofs });
    // Assess
    expect(result).toMatchObject({ status: 'FAILED', error: 'ROLLED_BACK' });
    expect(proofs.comparisons.map((c) => c.outcome)).toEqual(['SUCCEEDED', 'ROLLED_BACK']);
    expect(result.cause).not.toContain('The release changed the schema');
    expect(result.cause).toMatch(/The code was rolled back but the schema was not: /);
    expect(aws.ledger.at(-1)?.outcome).toBe('ROLLED_BACK');
  });

  it('a manifest recorded before manifests held the schema: on a rollback, says the change is unknown', async () => {
    // Prepare
    const aws = new SimulatedAws();
    badRelease(aws);
    const proofs = new SnapshotProofs();
    proofs.recordSchema = false;
    // Act
    const result = await release(aws, inputs.commit({ releaseId: 'r-old' }), { proofs });
    // Assess
    expect(result).toMatchObject({ status: 'FAILED', error: 'ROLLED_BACK' });
    expect(result.cause).toMatch(
      /Whether the release changed the schema is not known \(the manifest of snapshot stepdeploy-release-r-old was recorded before manifests held the schema\); the pre-release snapshot stepdeploy-release-r-old holds the schema it found\.$/,
    );
    expect(aws.ledger.at(-1)?.schema).toMatchObject({ status: 'NO_BASELINE' });
  });

  it('nothing deployed: the new code never ran, so the schema is not compared', async () => {
    // Prepare
    const aws = new SimulatedAws();
    aws.failures.set('RegisterTaskDefinition', {
      times: 1,
      error: () => new InjectedFailure('RegisterTaskDefinition'),
    });
    // Act
    const result = await release(aws, inputs.commit());
    // Assess
    expect(result).toMatchObject({ status: 'FAILED', error: 'FAILED' });
    expect(aws.calls).not.toContain('CompareSchema');
    expect(aws.ledger.at(-1)?.schema).toBeUndefined();
  });
});
