/**
 * Cost of a release on AWS, from an execution's events: state transitions at the Standard
 * workflow price, Lambda requests and GB-seconds (arm64, memory from the StepFunction
 * construct, duration of each Lambda Task visit), CodeBuild minutes of the measured image build
 * at the build project's compute type (read from pipeline-stack/pipeline-stack.ts).
 *
 * Standalone (`npx tsx bench/cost.ts`) it prices executions of the synthesized definition
 * against the simulated AWS the state-machine tests use (testkit/simulated-aws.ts, as
 * bench/transitions.ts counts them) with the app-only build time from
 * bench/results/image-build.json; `npm run bench` feeds it the events and build times of the
 * real local releases of the same run instead.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { bundlingFromConstruct } from './lambda-bundles.ts';
import {
  CODEBUILD_PER_MINUTE,
  type CodeBuildComputeType,
  computeTypeFromStackSource,
  LAMBDA_ARM64_PER_GB_SECOND,
  LAMBDA_PER_REQUEST,
  releaseCost,
  STEP_FUNCTIONS_PER_TRANSITION,
} from './lib/cost.ts';
import { type BenchEvent, lambdaInvocations, lambdaStates, transitions } from './lib/events.ts';
import { type Figure, figure, type SectionResult } from './lib/figures.ts';
import { isMain, RESULTS_DIR, writeSectionJson } from './lib/section.ts';
import { round } from './lib/stats.ts';

const ROOT = resolve(import.meta.dirname, '..');

/** One execution to price. */
export interface PricedExecution {
  readonly scenario: string;
  readonly events: readonly BenchEvent[];
  /** Seconds of the image build this release ran (0 when it deployed a given image). */
  readonly buildSeconds: number;
  readonly buildSource: string;
}

/** What the cost section is computed from. */
export interface CostInputs {
  readonly definition:
    | { readonly States: Record<string, never> }
    | { readonly States: Record<string, unknown> };
  readonly executions: readonly PricedExecution[];
  /** Where the events come from (for the report). */
  readonly eventsSource: string;
  /** Billed init per distinct function per release (cold start), if measured. */
  readonly initMs?: { readonly value: number; readonly source: string };
}

/** The build project's compute type and the functions' memory, from the CDK source. */
export async function awsSettings(): Promise<{
  computeType: CodeBuildComputeType;
  memoryMb: number;
}> {
  const stack = await readFile(join(ROOT, 'pipeline-stack/pipeline-stack.ts'), 'utf8');
  const construct = await readFile(
    join(ROOT, 'pipeline-stack/constructs/step-function.ts'),
    'utf8',
  );
  return {
    computeType: computeTypeFromStackSource(stack),
    memoryMb: bundlingFromConstruct(construct).memoryMb,
  };
}

/** Prices each execution. Pure given the settings. */
export function costSection(
  inputs: CostInputs,
  settings: { computeType: CodeBuildComputeType; memoryMb: number },
): SectionResult {
  const lambdas = lambdaStates(inputs.definition as never);
  const rows = inputs.executions.map((x) => {
    const base = lambdaInvocations(x.events, lambdas, settings.memoryMb);
    // A release is rare enough that every function it calls starts cold: bill one init each.
    const functions = new Set(
      base.map((i) =>
        i.function
          .replace(/^CheckRollbackHealth$/, 'CheckHealth')
          .replace(/^Rollback$/, 'DeployService'),
      ),
    );
    const init = inputs.initMs
      ? [...functions].map((f) => ({
          function: `${f} (init)`,
          durationMs: inputs.initMs?.value ?? 0,
          memoryMb: settings.memoryMb,
        }))
      : [];
    const cost = releaseCost({
      transitions: transitions(x.events),
      invocations: [...base, ...init],
      buildSeconds: x.buildSeconds,
      computeType: settings.computeType,
    });
    return {
      scenario: x.scenario,
      transitions: transitions(x.events),
      lambdaInvocations: base.length,
      lambdaBilledMs: Math.round(base.reduce((s, i) => s + Math.ceil(i.durationMs), 0)),
      coldStarts: init.length,
      buildSeconds: round(x.buildSeconds, 4),
      buildSource: x.buildSource,
      usd: Object.fromEntries(Object.entries(cost).map(([k, v]) => [k, round(v, 4)])),
    };
  });
  const figures: Figure[] = rows.map((r) => {
    const buildUsd = r.usd.codeBuild ?? 0;
    return figure({
      name: `${r.scenario}: cost of one release`,
      value: r.usd.total ?? 0,
      unit: 'USD',
      ...(buildUsd > 0
        ? {
            yardstick: {
              name: `CodeBuild ${settings.computeType} cost of its image build alone`,
              value: buildUsd,
              unit: 'USD',
            },
          }
        : {}),
      note: `${r.transitions} transitions $${r.usd.stepFunctions}, ${r.lambdaInvocations} Lambda calls (+${r.coldStarts} cold inits) $${round((r.usd.lambdaRequests ?? 0) + (r.usd.lambdaDuration ?? 0), 3)}, ${r.usd.codeBuildBilledMinutes} build min $${buildUsd}`,
    });
  });
  return {
    id: 'cost',
    title: 'Cost of a release on AWS',
    status: rows.length > 0 ? 'measured' : 'not measured',
    ...(rows.length === 0 ? { reason: 'no execution to price' } : {}),
    method:
      `The issue sets no cost target; the ratio shows what orchestration adds to the build. Priced from ${inputs.eventsSource}. List prices (us-east-1, on-demand, free tiers ignored): $${STEP_FUNCTIONS_PER_TRANSITION} per state transition (Standard), ` +
      `$${LAMBDA_PER_REQUEST * 1e6} per 1M Lambda requests, $${LAMBDA_ARM64_PER_GB_SECOND} per GB-s on arm64 at ${settings.memoryMb} MB (StepFunction construct), ` +
      `CodeBuild ${settings.computeType} at $${CODEBUILD_PER_MINUTE[settings.computeType]}/min billed per started minute (the project uses LinuxBuildImage.STANDARD_7_0, i.e. x86_64; ` +
      `general1.small on arm64 would be $${CODEBUILD_PER_MINUTE['general1.small/arm64']}/min). Lambda duration = each Lambda Task visit's duration in the execution` +
      `${inputs.initMs ? ` plus one billed cold init per function of ${round(inputs.initMs.value, 3)} ms (${inputs.initMs.source})` : ''}. ` +
      'Not included: SNS publish, DynamoDB writes, CloudWatch Logs/X-Ray, ECR and snapshot storage, Fargate task time.',
    figures,
    details: { settings, rows },
  };
}

async function simulatedInputs(): Promise<CostInputs> {
  const { countTransitions, runLocal } = await import('#local/runner.ts');
  const { digestOf, inputs, SimulatedAws } = await import('#testkit/simulated-aws.ts');
  const { releaseDefinitionFromAssembly } = await import('#testkit/synthesized.ts');
  void countTransitions;
  const definition = releaseDefinitionFromAssembly();
  const image = JSON.parse(await readFile(join(RESULTS_DIR, 'image-build.json'), 'utf8')) as {
    date: string;
    rows: { scenario: string; seconds: number }[];
  };
  const appOnly = image.rows.find((r) => r.scenario === 'packer app-only')?.seconds;
  if (appOnly === undefined)
    throw new Error('bench/results/image-build.json has no "packer app-only" row');
  const exec = async (name: string, bad: boolean) => {
    const aws = new SimulatedAws();
    if (bad) {
      aws.buildLabel = 'bad-build';
      aws.badDigests.add(digestOf('bad-build'));
    }
    const result = await runLocal(definition, inputs.commit(), {
      handlers: aws.handlers(),
      executionName: name,
    });
    return {
      scenario: name,
      events: result.events as never,
      buildSeconds: appOnly,
      buildSource: `packer app-only of image-build.json (${image.date})`,
    };
  };
  return {
    definition: definition as never,
    executions: [
      await exec('good release (simulated AWS)', false),
      await exec('rolled-back release (simulated AWS)', true),
    ],
    eventsSource:
      "executions of the synthesized release definition against the simulated AWS of test/statemachine (poll counts as there; Lambda durations are the simulator's, a lower bound)",
  };
}

/** The cost section from given inputs, or (standalone) from simulated executions. */
export async function runCost(inputs?: CostInputs): Promise<SectionResult> {
  return costSection(inputs ?? (await simulatedInputs()), await awsSettings());
}

if (isMain(import.meta.url)) {
  const section = await runCost();
  await writeSectionJson('cost', section);
  for (const f of section.figures)
    console.log(`${f.name}: $${f.value} (x${f.ratio} of build) — ${f.note}`);
}
