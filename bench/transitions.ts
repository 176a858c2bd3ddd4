/**
 * State transitions (and so Step Functions standard-workflow cost) of one release that
 * succeeds and one that is rolled back, counted from the events of local executions of the
 * definition taken from the synthesized template; then the transitions of a successful release
 * against its rollout time (simulated rollouts of 30 s to 10 min, the last 20 s the template's
 * deregistration delay), with the health gate pacing its polls by the target group and, as the
 * yardstick, with every poll 15 s apart (the gate before adaptive polls, at the default
 * pollIntervalSeconds). Run: `npx tsx bench/transitions.ts`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countTransitions, type Json, runLocal } from '#local/runner.ts';
import { digestOf, inputs, SimulatedAws, SnapshotProofs } from '#testkit/simulated-aws.ts';
import { releaseDefinitionFromAssembly } from '#testkit/synthesized.ts';

/** USD per state transition of a standard workflow ($0.025 per 1,000). */
const PRICE_PER_TRANSITION = 0.025 / 1000;

const definition = releaseDefinitionFromAssembly();

async function measure(name: string, prepare: (aws: SimulatedAws) => void, input: Json) {
  const aws = new SimulatedAws();
  prepare(aws);
  return { ...(await execute(aws, name, input)), gateSeconds: null as number | null };
}

async function execute(aws: SimulatedAws, name: string, input: Json) {
  const result = await runLocal(definition, input, {
    handlers: { ...aws.handlers(), ...new SnapshotProofs().handlers(aws) },
    executionName: name,
  });
  const transitions = countTransitions(result.events);
  const healthPolls = aws.calls.filter(
    (c) => c === 'CheckHealth' || c === 'CheckRollbackHealth',
  ).length;
  return {
    scenario: name,
    status: result.status,
    error: result.error ?? null,
    transitions,
    healthPolls,
    costUsd: Number((transitions * PRICE_PER_TRANSITION).toFixed(6)),
  };
}

/** Rollout times (s) of the sweep (deployment → old tasks drained, COMPLETED), off the polls' beat so the gate's lag shows. */
const ROLLOUT_SECONDS = [31, 62, 124, 302, 607];
/** The template's deregistration delay: the last part of every simulated rollout. */
const DRAIN_SECONDS = 20;

async function sweep(rolloutSeconds: number, fixedPollSeconds?: number) {
  const aws = new SimulatedAws();
  aws.timedRollout = {
    healthyAfterMs: (rolloutSeconds - DRAIN_SECONDS) * 1000,
    drainMs: DRAIN_SECONDS * 1000,
  };
  aws.fixedPollSeconds = fixedPollSeconds;
  const r = await execute(
    aws,
    `rollout-${rolloutSeconds}s-${fixedPollSeconds ? `fixed${fixedPollSeconds}` : 'adaptive'}`,
    inputs.commit(),
  );
  // When the gate passed, in simulated time since the deployment.
  return { ...r, gateSeconds: (aws.rollout?.elapsedMs ?? 0) / 1000 };
}

const growth = [];
for (const rolloutSeconds of ROLLOUT_SECONDS) {
  const adaptive = await sweep(rolloutSeconds);
  const fixed15 = await sweep(rolloutSeconds, 15);
  growth.push({ rolloutSeconds, adaptive, fixed15 });
  console.log(
    `rollout ${String(rolloutSeconds).padStart(4)} s: adaptive ${adaptive.transitions} transitions (${adaptive.healthPolls} polls, gate passed at ${adaptive.gateSeconds} s), fixed 15 s ${fixed15.transitions} (${fixed15.healthPolls} polls, at ${fixed15.gateSeconds} s)`,
  );
}
if (growth.some((g) => g.adaptive.status !== 'SUCCEEDED' || g.fixed15.status !== 'SUCCEEDED')) {
  console.error('transitions: a simulated rollout did not succeed; nothing written');
  process.exit(1);
}

const results = [
  await measure('successful-release', () => undefined, inputs.commit()),
  await measure(
    'rolled-back-release',
    (aws) => {
      aws.buildLabel = 'bad-build';
      aws.badDigests.add(digestOf('bad-build'));
    },
    inputs.commit(),
  ),
];

for (const r of results) {
  console.log(
    `${r.scenario.padEnd(22)} ${r.status.padEnd(9)} ${String(r.transitions).padStart(4)} transitions (${r.healthPolls} health polls)  $${r.costUsd.toFixed(6)} per release  $${(r.costUsd * 1000).toFixed(2)} per 1,000 releases`,
  );
}
// A scenario that did not end as intended measures another path: refuse to publish it.
const [good, rolledBack] = results;
if (good?.status !== 'SUCCEEDED' || rolledBack?.error !== 'ROLLED_BACK') {
  console.error(
    `transitions: scenarios did not end as intended (good: ${good?.status} ${good?.error ?? ''}, rolled back: ${rolledBack?.status} ${rolledBack?.error ?? ''}); nothing written`,
  );
  process.exit(1);
}
const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'transitions.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify(
    {
      note: 'Standard workflow price $0.025 per 1,000 state transitions. Simulated rollout: targets initial on the first poll, then healthy (or unhealthy); snapshot available on the first check. On AWS each extra health poll adds 3 transitions (Wait, CheckHealth, Choice) and each extra snapshot poll 4.',
      pricePerThousandTransitionsUsd: 0.025,
      results,
      growth: {
        note: `Successful releases whose rollout (deployment → old tasks drained) takes the given time, its last ${DRAIN_SECONDS} s the drain; the health gate paces its polls from the template's target group (10 s interval: 5 s while tasks start, 10 s while old ones drain), against every poll 15 s apart.`,
        drainSeconds: DRAIN_SECONDS,
        rows: growth,
      },
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${out}`);
