import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cli,
  endState,
  type FaultRun,
  type FaultRunOptions,
  type FaultScenario,
  faultStack,
  jsonOf,
  knownGoodImage,
  replacementMs,
  runFaultScenario,
  serviceView,
  startCli,
} from '../../bench/lib/fault-scenarios.ts';
import { startLoad } from '../../bench/lib/load.ts';

// Releases under faults, each under a modest fixed-rate load of the home page through the
// local load balancer. One local stack of its own (service, state dir and ports no other e2e
// file uses), driven through the real command line by the same scenario driver as
// `npm run bench -- faults`. Every request goes to 127.0.0.1. The faults are injected when the
// system shows the moment (a task container of the new revision running; the execution in
// CheckHealth), never after a fixed sleep. The load is judged on errors only, never on latency,
// so it holds on a busy two-core machine.
const HOME = `/tmp/sd-e2e-faults-${process.pid}`;
const STACK = faultStack({
  home: HOME,
  service: 'e2efaults',
  sitePort: 18580,
  registryPort: 15500,
  databasePort: 23706,
  taskPortBase: 28600,
  env: { STEPDEPLOY_STARTED_BY: 'e2e-faults-test' },
});
const MINUTES = 60_000;
/** Requests per second: a modest fixed rate, well under the site's capacity at rest. */
const RATE = 3;
const LOAD: FaultRunOptions = {
  ratePerSecond: RATE,
  // Judged on errors, not latency: a slow answer on a busy machine is still served.
  timeoutMs: 30_000,
  maxInFlight: 60,
};

interface ReleaseJsonLike {
  record?: { taskDefinitionArn?: string };
}

interface StatusJson {
  service: { taskDefinition: string; revision: string; desiredCount: number } | null;
  tasks: { name: string; revision: number; lastStatus: string; targetHealth: string }[];
}

function scenario(name: FaultScenario, extra: Partial<FaultRunOptions> = {}): Promise<FaultRun> {
  return runFaultScenario(STACK, name, { ...LOAD, ...extra });
}

/**
 * The promises every execution keeps, asserted the same way for each scenario: the outcome,
 * zero failed requests, the service on the expected revision, and the load balancer holding
 * exactly the running tasks of that revision, all healthy — read from the HAProxy runtime API
 * by the driver and, independently, from `stepdeploy local status --json`.
 */
async function expectHeld(
  run: FaultRun,
  expected: { readonly outcome: string; readonly taskDefinition: string | undefined },
): Promise<void> {
  const context = `${run.scenario}: ${run.release?.cause ?? run.cliError ?? ''}\n${run.stderrTail}`;
  expect(run.outcome, context).toBe(expected.outcome);
  expect(run.load.failures, context).toEqual([]);
  expect(run.load.ok).toBeGreaterThan(0);
  expect(run.end.taskDefinition).toBe(expected.taskDefinition);
  expect(run.end.problems, context).toEqual([]);
  expect(run.end.targets.map((t) => t.name).sort()).toEqual(
    run.end.serving.map((t) => t.name).sort(),
  );
  expect(run.end.targets.every((t) => t.state === 'healthy')).toBe(true);
  expect(run.end.serving).toHaveLength(run.end.desiredCount ?? 2);
  const status = jsonOf<StatusJson>(await cli(STACK, ['status', '--json']));
  const running = status.tasks.filter((t) => t.lastStatus === 'RUNNING');
  expect(status.service?.taskDefinition).toBe(expected.taskDefinition);
  expect(running.map((t) => t.name).sort()).toEqual(run.end.serving.map((t) => t.name).sort());
  for (const t of running) {
    expect(String(t.revision)).toBe(status.service?.revision);
    expect(t.targetHealth).toBe('healthy');
  }
}

afterAll(async () => {
  await cli(STACK, ['down']);
}, 5 * MINUTES);

describe.sequential('local mode under faults: releases hold with zero failed requests', () => {
  it(
    '1. up, the first release installs WordPress, then a good release under load',
    async () => {
      // Prepare: `up` leaves WordPress not installed; the first release installs it
      // (CheckInstalled → InstallWordPress), so it is the first one a visitor can load.
      const up = await cli(STACK, ['up', '--json']);
      expect(up.code, `${up.stdout.slice(0, 3000)}\n${up.stderr.slice(-3000)}`).toBe(0);
      const install = await cli(STACK, ['release', '--revision', 'f0', '--json']);
      expect(install.code, install.stderr.slice(-3000)).toBe(0);
      expect(install.stderr).toContain('InstallWordPress: exited 0');
      // Act: site/ as it is, so the image f0 built is deployed again (the build under load is
      // the bench's to measure; here the rollout's promises are asserted).
      const run = await scenario('good', { label: 'f1', unchangedSource: true });
      // Assess
      await expectHeld(run, {
        outcome: 'SUCCEEDED',
        taskDefinition: run.release?.record?.taskDefinitionArn,
      });
      expect(run.end.taskDefinition).not.toBe(run.before.taskDefinition);
    },
    15 * MINUTES,
  );

  it(
    '2. a new task killed mid-rollout is replaced by the scheduler and the release succeeds',
    async () => {
      // Prepare: the kill comes as soon as a container of the new revision runs
      // Act
      const run = await scenario('kill-new');
      // Assess
      expect(run.injection, run.notInjected).toMatchObject({ kind: 'kill-new-task' });
      await expectHeld(run, {
        outcome: 'SUCCEEDED',
        taskDefinition: run.release?.record?.taskDefinitionArn,
      });
      expect(replacementMs(run, 2), 'the scheduler started no replacement').toBeDefined();
      expect(run.end.serving.map((t) => t.name)).not.toContain(run.injection?.target);
      expect(run.end.targets.map((t) => t.name)).not.toContain(run.injection?.target);
    },
    10 * MINUTES,
  );

  it(
    '3. a known-good task killed mid-rollout: the release succeeds and no request fails',
    async () => {
      // Prepare: the kill of an old task comes as soon as the first new task runs
      // Act
      const run = await scenario('kill-old');
      // Assess
      expect(run.injection, run.notInjected).toMatchObject({ kind: 'kill-known-good-task' });
      expect(run.before.tasks).toContain(run.injection?.target);
      await expectHeld(run, {
        outcome: 'SUCCEEDED',
        taskDefinition: run.release?.record?.taskDefinitionArn,
      });
      expect(run.end.targets.map((t) => t.name)).not.toContain(run.injection?.target);
    },
    10 * MINUTES,
  );

  it(
    '4. MariaDB restarted during the health gate: the release succeeds and no request fails',
    async () => {
      // Prepare: the restart comes once the execution is in CheckHealth and a new task runs
      // Act
      const run = await scenario('db-restart');
      // Assess
      expect(run.injection, run.notInjected).toMatchObject({ kind: 'restart-database' });
      await expectHeld(run, {
        outcome: 'SUCCEEDED',
        taskDefinition: run.release?.record?.taskDefinitionArn,
      });
    },
    10 * MINUTES,
  );

  it(
    '5. a rollback with no build releases the last known-good image and succeeds',
    async () => {
      // Prepare
      const before = await serviceView(STACK);
      const target = await knownGoodImage(STACK, before.image);
      // Act
      const run = await scenario('rollback');
      // Assess
      await expectHeld(run, {
        outcome: 'SUCCEEDED',
        taskDefinition: run.release?.record?.taskDefinitionArn,
      });
      expect(target).not.toBe(before.image);
      expect(run.release?.input?.source).toMatchObject({ type: 'image', imageUri: target });
      expect(run.release?.durationsMs?.BuildImage).toBeUndefined();
      expect(run.end.image).toBe(target);
    },
    10 * MINUTES,
  );

  it(
    '6. a failing release (/healthz 500) is refused by its trial task: it never takes traffic',
    async () => {
      // Prepare
      const before = await serviceView(STACK);
      // Act
      const run = await scenario('failing', { label: 'f6-bad' });
      // Assess
      await expectHeld(run, {
        outcome: 'FAILED',
        taskDefinition: before.taskDefinition ?? undefined,
      });
      expect(run.release?.failure).toMatchObject({ step: 'CheckTrial', error: 'TrialFailed' });
      expect(run.release?.failure?.reason).toMatch(
        /answered wrongly 2 time\(s\) in a row: \/healthz answered 500/,
      );
      expect(run.stderrTail).not.toMatch(/DeployService/);
      expect(run.end.image).toBe(before.image);
      expect(run.end.serving.map((t) => t.name).sort()).toEqual(
        before.tasks
          .filter((t) => t.lastStatus === 'RUNNING')
          .map((t) => t.name)
          .sort(),
      );
    },
    15 * MINUTES,
  );

  it(
    '7. the stepdeploy process killed during the health gate: the next release takes over its lock at once',
    async () => {
      // Prepare: a redeploy of a known-good image, killed (SIGKILL: nothing runs after it) as
      // soon as it gates on health, under the same load.
      const before = await serviceView(STACK);
      const image = await knownGoodImage(STACK, before.image);
      const load = startLoad({
        url: STACK.siteUrl,
        ratePerSecond: RATE,
        maxRequests: 100_000,
        maxMs: 15 * MINUTES,
        strict: true,
        timeoutMs: LOAD.timeoutMs as number,
        maxInFlight: LOAD.maxInFlight as number,
      });
      const interrupted = startCli(STACK, ['release', '--image', image, '--json']);
      const gated = await interrupted.entered('CheckHealth');
      interrupted.child.kill('SIGKILL');
      const killed = await interrupted.done;
      const left = jsonOf<StatusJson & { interrupted: { releaseId: string } | null }>(
        await cli(STACK, ['status', '--json']),
      );
      // Act
      const next = await cli(STACK, ['release', '--image', image, '--json']);
      const seen = await load.stop();
      const end = await endState(STACK);
      // Assess
      expect(gated, interrupted.stderr().slice(-2000)).toBe(true);
      expect(killed.code).toBeNull();
      expect(left.interrupted?.releaseId).toMatch(/^local-/);
      expect(next.code, next.stderr.slice(-3000)).toBe(0);
      expect(next.stderr).toContain(
        `took over the lock of release ${left.interrupted?.releaseId}, whose stepdeploy process`,
      );
      expect(next.stderr).not.toContain('WaitForLock');
      expect(seen.failures).toEqual([]);
      expect(end.problems).toEqual([]);
      expect(end.taskDefinition).toBe(jsonOf<ReleaseJsonLike>(next).record?.taskDefinitionArn);
    },
    15 * MINUTES,
  );

  it(
    '8. down removes the stack',
    async () => {
      // Act
      const down = await cli(STACK, ['down', '--json']);
      // Assess
      expect(down.code).toBe(0);
      expect(existsSync(HOME)).toBe(false);
    },
    5 * MINUTES,
  );
});
