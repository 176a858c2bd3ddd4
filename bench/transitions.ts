/**
 * State transitions (and so Step Functions standard-workflow cost) of one release that
 * succeeds and one that is rolled back, counted from the events of local executions of the
 * definition taken from the synthesized template. Run: `npx tsx bench/transitions.ts`.
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
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${out}`);
