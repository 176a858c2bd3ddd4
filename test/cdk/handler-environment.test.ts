import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { HANDLER_ENVIRONMENTS, type StepName } from '#stack/constructs/handler-environments.ts';
import {
  PLATFORM_VARIABLES,
  StepFunction,
  UndeclaredEnvironmentError,
} from '#stack/constructs/step-function.ts';
import { buildApp } from '#testkit/synthesized.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Handlers that are not steps: the salts custom resource, bundled outside StepFunction. */
const CUSTOM_RESOURCE_HANDLERS = new Set(['generate-salts']);
const STEP_FOLDERS = readdirSync(join(ROOT, 'functions'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(ROOT, 'functions', d.name, 'handler.ts')))
  .filter((d) => !CUSTOM_RESOURCE_HANDLERS.has(d.name))
  .map((d) => d.name)
  .sort();

/** One AWS::Lambda::Function of a synthesized template, with the step it runs if it is one. */
interface SynthesizedLambda {
  readonly stack: string;
  readonly logicalId: string;
  readonly path: string;
  readonly step?: StepName;
  readonly variables: Readonly<Record<string, unknown>>;
}

const KEY = { partitionKey: { name: 'pk', type: AttributeType.STRING } };

let lambdas: SynthesizedLambda[];
beforeAll(() => {
  const { app, application, pipeline } = buildApp();
  // The handler of a Lambda is the StepFunction construct behind its logical id: StepFunction
  // records the folder whose handler.ts it bundles.
  const steps = new Map<string, StepName>();
  for (const construct of app.node.findAll()) {
    if (!(construct instanceof StepFunction)) continue;
    const cfn = construct.node.defaultChild as CfnFunction;
    steps.set(
      `${Stack.of(construct).stackName}/${Stack.of(construct).getLogicalId(cfn)}`,
      construct.step,
    );
  }
  lambdas = [application, pipeline].flatMap((stack) =>
    Object.entries(Template.fromStack(stack).findResources('AWS::Lambda::Function')).map(
      ([logicalId, resource]) => ({
        stack: stack.stackName,
        logicalId,
        path: String(resource.Metadata?.['aws:cdk:path'] ?? logicalId),
        step: steps.get(`${stack.stackName}/${logicalId}`),
        variables: resource.Properties.Environment?.Variables ?? {},
      }),
    ),
  );
}, 180_000);

describe('each Lambda gets the environment its handler declares (functions/<step>/env.ts)', () => {
  it('knows the environment of every step folder, and only those', () => {
    // Act
    const registered = Object.keys(HANDLER_ENVIRONMENTS).sort();

    // Assess
    expect(registered).toEqual(STEP_FOLDERS);
  });

  it.each(STEP_FOLDERS)('%s: the registry holds the schema its env.ts exports', async (step) => {
    // Prepare
    const file = join(ROOT, 'functions', step, 'env.ts');

    // Act
    const declared = existsSync(file)
      ? ((await import(file)) as { environmentSchema: unknown }).environmentSchema
      : undefined;

    // Assess: a step without env.ts reads no variable of its own.
    const registered = HANDLER_ENVIRONMENTS[step as StepName];
    if (declared === undefined) expect(Object.keys(registered.shape)).toEqual([]);
    else expect(registered).toBe(declared);
  });

  it('runs every step folder in a synthesized Lambda, and no other Lambda but the salts custom resource', () => {
    // Act
    const deployed = new Set(lambdas.flatMap((l) => (l.step ? [l.step] : [])));
    const others = lambdas.filter((l) => !l.step).map((l) => l.path);

    // Assess: the one Lambda that is not a step is the salts custom resource (functions/generate-salts).
    expect([...deployed].sort()).toEqual(STEP_FOLDERS);
    expect(others).toEqual([expect.stringMatching(/^SaltsGeneratorFunction[0-9A-F]{8}$/)]);
  });

  it('sets every variable each handler declares and none it does not', () => {
    // Act: per Lambda, the names its handler needs but lacks, and those it sets but never reads.
    const mismatches = lambdas.flatMap((lambda) => {
      if (!lambda.step) return [];
      const declared = Object.keys(HANDLER_ENVIRONMENTS[lambda.step].shape);
      const known = new Set<string>([...declared, ...PLATFORM_VARIABLES]);
      const set = Object.keys(lambda.variables);
      const missing = [...declared, ...PLATFORM_VARIABLES].filter((name) => !set.includes(name));
      const unknown = set.filter((name) => !known.has(name));
      return missing.length + unknown.length === 0
        ? []
        : [{ lambda: lambda.path, step: lambda.step, missing, unknown }];
    });

    // Assess
    expect(lambdas.filter((l) => l.step).length).toBeGreaterThanOrEqual(STEP_FOLDERS.length);
    expect(mismatches).toEqual([]);
  });

  it('gives each variable set as a literal a value its handler accepts', () => {
    // Act: values known at synth time (a number, a prefix), parsed by the variable's schema.
    const refused = lambdas.flatMap((lambda) => {
      if (!lambda.step) return [];
      const shape = HANDLER_ENVIRONMENTS[lambda.step].shape as Record<
        string,
        { safeParse: (v: unknown) => { success: boolean } }
      >;
      return Object.entries(lambda.variables)
        .filter(([name, value]) => typeof value === 'string' && shape[name])
        .filter(([name, value]) => !shape[name]?.safeParse(value).success)
        .map(([name, value]) => `${lambda.path}: ${name}=${String(value)}`);
    });

    // Assess
    expect(refused).toEqual([]);
  });
});

describe('StepFunction refuses a variable its handler does not declare', () => {
  // Bundling skipped: these functions are never synthesized.
  const stack = () =>
    new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Refusals');
  const checkHealth = (scope: Stack) =>
    new StepFunction(scope, 'CheckHealth', { step: 'check-health', description: 'health' });

  it.each([
    [
      'in its props',
      (scope: Stack) =>
        new StepFunction(scope, 'RecordRelease', {
          step: 'record-release',
          description: 'ledger',
          // @ts-expect-error RecordRelease's handler does not declare LOCK_TABLE_NAME.
          environment: { LOCK_TABLE_NAME: 'lock' },
        }),
      'functions/record-release/env.ts declares no LOCK_TABLE_NAME',
    ],
    [
      'through a bindX() method',
      // @ts-expect-error CheckHealth's handler reads no ledger table.
      (scope: Stack) => checkHealth(scope).bindLedgerWriter(new Table(scope, 'Ledger', KEY)),
      'functions/check-health/env.ts declares no LEDGER_TABLE_NAME',
    ],
    [
      'through addEnvironment',
      // @ts-expect-error CheckHealth's handler declares no CLUSTER_ARN.
      (scope: Stack) => checkHealth(scope).addEnvironment('CLUSTER_ARN', 'arn'),
      'functions/check-health/env.ts declares no CLUSTER_ARN',
    ],
  ])('%s, at compile time and at synth time', (_how, build, message) => {
    // Act: each call builds in a fresh stack.
    const act = () => build(stack());

    // Assess
    expect(act).toThrow(UndeclaredEnvironmentError);
    expect(act).toThrow(message);
  });

  it('accepts what the handler declares', () => {
    // Prepare
    const scope = stack();

    // Act
    const fn = new StepFunction(scope, 'StartRelease', {
      step: 'start-release',
      description: 'start',
      environment: { RELEASE_STATE_MACHINE_ARN: 'arn:machine', TOPIC_ARN: 'arn:topic' },
    });

    // Assess
    expect(fn.step).toBe('start-release');
  });
});
