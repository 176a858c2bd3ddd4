import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import { allStates, type Json, runLocal } from '#local/runner.ts';
import { inputs, SimulatedAws, SnapshotProofs } from '#testkit/simulated-aws.ts';
import { releaseDefinitionFromAssembly } from '#testkit/synthesized.ts';

let definition: StateMachineDefinition;
beforeAll(() => {
  definition = releaseDefinitionFromAssembly();
}, 300_000);

let executions = 0;
async function release(aws: SimulatedAws, input: Json) {
  executions += 1;
  const proofs = new SnapshotProofs();
  return runLocal(definition, input, {
    handlers: { ...aws.handlers(), ...proofs.handlers(aws) },
    executionName: `snapshots-${executions}`,
  });
}

/** An RDS error as the aws-sdk:rds integration names it. */
const rdsError = (name: string, message: string) => () =>
  Object.assign(new Error(message), { name: `Rds.${name}` });

type Retrier = {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  BackoffRate?: number;
  MaxAttempts?: number;
  MaxDelaySeconds?: number;
};

/** Seconds a retrier waits in all before giving up (without jitter). */
const retryBudgetSeconds = (r: Retrier) =>
  Array.from({ length: r.MaxAttempts ?? 3 }, (_, n) =>
    Math.min((r.IntervalSeconds ?? 1) * (r.BackoffRate ?? 2) ** n, r.MaxDelaySeconds ?? Infinity),
  ).reduce((a, b) => a + b, 0);

describe('SnapshotDatabase during the backup window', () => {
  it('retries InvalidDBInstanceState (instance backing-up) and the release goes on', async () => {
    // Prepare: RDS refuses twice, as while the automated backup runs
    const aws = new SimulatedAws();
    aws.failures.set('SnapshotDatabase', {
      times: 2,
      error: rdsError(
        'InvalidDbInstanceStateException',
        'Cannot create a snapshot because the database instance stepdeploy-wordpress is not currently in the available state.',
      ),
    });
    // Act
    const result = await release(aws, inputs.commit());
    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(aws.calls.filter((c) => c === 'SnapshotDatabase')).toHaveLength(3);
    expect(aws.ledger.at(-1)?.outcome).toBe('SUCCEEDED');
  });

  it('waits with backoff long enough to outlast a backup (at least 30 minutes)', () => {
    // Prepare
    const state = allStates(definition).find(([name]) => name === 'SnapshotDatabase')?.[1] as {
      Retry?: Retrier[];
    };
    // Act
    const retrier = state.Retry?.find((r) =>
      r.ErrorEquals.includes('Rds.InvalidDbInstanceStateException'),
    );
    // Assess
    expect(retrier).toBeDefined();
    expect(retrier?.BackoffRate).toBeGreaterThan(1);
    expect(retryBudgetSeconds(retrier as Retrier)).toBeGreaterThanOrEqual(30 * 60);
  });

  it('still fails the release, naming the step, when the instance never becomes available', async () => {
    // Prepare
    const aws = new SimulatedAws();
    aws.failures.set('SnapshotDatabase', {
      times: Number.POSITIVE_INFINITY,
      error: rdsError('InvalidDbInstanceStateException', 'instance is backing-up'),
    });
    // Act
    const result = await release(aws, inputs.commit());
    // Assess
    expect(result.status).toBe('FAILED');
    expect(aws.calls.filter((c) => c === 'SnapshotDatabase')).toHaveLength(11);
    expect(aws.ledger.at(-1)).toMatchObject({
      outcome: 'FAILED',
      failure: { step: 'SnapshotDatabase', error: 'Rds.InvalidDbInstanceStateException' },
    });
  });
});

describe('PruneSnapshots after a successful release', () => {
  /** A SimulatedAws whose database already holds `count` older release snapshots. */
  const withOldSnapshots = (count: number) => {
    // The service name the synthesized ASL passes (SnapshotDatabase tags with it).
    const service = (
      definition.States.ValidateInput as unknown as {
        Parameters: { target: { service: string } };
      }
    ).Parameters.target.service;
    const aws = new SimulatedAws();
    aws.snapshots = Array.from({ length: count }, (_, i) => ({
      id: `stepdeploy-release-old-${i}`,
      createdAt: new Date(Date.UTC(2025, 0, 1 + i)).toISOString(),
      status: 'available',
      tags: { 'stepdeploy:service': service, 'stepdeploy:release': `old-${i}` },
    }));
    return aws;
  };

  it('keeps the configured number of release snapshots (default 10 newest)', async () => {
    // Prepare
    const aws = withOldSnapshots(14);
    // Act
    const result = await release(aws, inputs.commit());
    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(aws.calls.slice(-4)).toEqual([
      'RecordRelease',
      'PruneSnapshots',
      'ReleaseLock',
      'Notify',
    ]);
    expect(aws.snapshots).toHaveLength(10);
    expect(aws.snapshots.map((s) => s.id)).toContain(aws.ledger.at(-1)?.snapshotId);
    expect(aws.snapshots.map((s) => s.id)).not.toContain('stepdeploy-release-old-0');
  });

  it('a failed prune leaves the release a success and says so in the announcement', async () => {
    // Prepare
    const aws = withOldSnapshots(12);
    aws.undeletableSnapshots.add('stepdeploy-release-old-0');
    // Act
    const result = await release(aws, inputs.commit());
    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(aws.ledger.at(-1)?.outcome).toBe('SUCCEEDED');
    expect(aws.lock).toBeUndefined();
    expect(aws.notifications).toHaveLength(1);
    expect(aws.notifications[0]).toMatchObject({ outcome: 'SUCCEEDED' });
    expect(aws.notifications[0]?.Message).toMatch(/SUCCEEDED: .* is serving/);
    expect(aws.notifications[0]?.Message).toMatch(
      /Old release snapshots were NOT pruned \(PruneSnapshots SnapshotPruneError: could not delete 1 of 3 .*stepdeploy-release-old-0/,
    );
  });

  it('does not prune after a release that was rolled back', async () => {
    // Prepare
    const aws = withOldSnapshots(12);
    aws.failures.set('SmokeTest', {
      times: Number.POSITIVE_INFINITY,
      error: () => Object.assign(new Error('/readyz answered 503'), { name: 'SmokeTestError' }),
    });
    // Act
    const result = await release(aws, inputs.commit());
    // Assess
    expect(result.status).toBe('FAILED');
    expect(aws.ledger.at(-1)?.outcome).toBe('ROLLED_BACK');
    expect(aws.calls).not.toContain('PruneSnapshots');
    expect(aws.snapshots).toHaveLength(13);
  });
});
