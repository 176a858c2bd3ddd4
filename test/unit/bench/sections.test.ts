import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { noEnvironment, numberVariable, stringVariable } from '#commons/env.ts';
import {
  detectionMs,
  reaction,
  recoveryMs,
  rolloutMs,
  sectionsFromScenarios,
} from '../../../bench/failure-detection.ts';
import {
  bundlingFromConstruct,
  commonsClients,
  envFromSchema,
  floorEntry,
  inputShares,
} from '../../../bench/lambda-bundles.ts';
import type { LocalScenarios, ScenarioRun } from '../../../bench/lib/local-scenarios.ts';
import { SECTIONS, selectSections, withCarriedOver } from '../../../bench/run.ts';

const state = (type: string, name: string, timestamp: number) => ({
  type,
  timestamp,
  state: { name },
});

function scenario(over: Partial<ScenarioRun> & Pick<ScenarioRun, 'scenario'>): ScenarioRun {
  return {
    startedAt: 0,
    endedAt: 60_000,
    result: { outcome: 'ROLLED_BACK', events: [], durationsMs: {} } as never,
    serviceEvents: [],
    load: {
      sent: 600,
      ok: 600,
      failed: 0,
      failures: [],
      startedAt: 0,
      endedAt: 60_000,
      latenciesMs: [],
    },
    ...over,
  };
}

describe('bundlingFromConstruct', () => {
  it('reads the NodejsFunction bundling options and memory of the construct', () => {
    // Prepare
    const src = `memorySize: props.memorySize ?? 256,
      environment: { NODE_OPTIONS: '--enable-source-maps' },
      bundling: { format: OutputFormat.CJS, target: 'node20', minify: true, keepNames: true, sourceMap: false }`;
    // Act
    const s = bundlingFromConstruct(src);
    // Assess
    expect(s).toEqual({
      target: 'node20',
      format: 'cjs',
      minify: true,
      keepNames: true,
      sourceMap: false,
      sourcesContent: true,
      memoryMb: 256,
      nodeOptions: '--enable-source-maps',
      externals: ['@aws-sdk/*'],
      alias: {},
    });
    expect(bundlingFromConstruct(src, true).externals).toEqual(['@aws-sdk/*', '@smithy/*']);
  });

  it('takes the externals, sourcesContent and alias the construct sets over the defaults', () => {
    // Prepare
    const src = `const STAND_IN = 'pipeline-stack/constructs/x.ts';
      memorySize: 256,
      bundling: { target: 'node20', minify: true, keepNames: true, sourceMap: true,
        sourcesContent: false, externalModules: ['@aws-sdk/*', '@smithy/*'],
        esbuildArgs: { '--alias': \`semver=./\${STAND_IN}\` } }`;
    // Act
    const s = bundlingFromConstruct(src);
    // Assess
    expect(s).toMatchObject({
      sourcesContent: false,
      externals: ['@aws-sdk/*', '@smithy/*'],
      alias: { semver: './pipeline-stack/constructs/x.ts' },
    });
  });

  it('refuses a construct without a target rather than guessing one', () => {
    // Prepare / Act / Assess
    expect(() =>
      bundlingFromConstruct('minify: true, keepNames: true, sourceMap: true, memorySize: 128'),
    ).toThrow('target');
  });
});

describe('inputShares', () => {
  it('adds up the bytes of each package and project folder, largest first', () => {
    // Prepare
    const inputs = {
      '../main/node_modules/zod/v4/core/schemas.js': { bytesInOutput: 300 },
      '../main/node_modules/zod/v4/core/util.js': { bytesInOutput: 200 },
      'node_modules/@aws-lambda-powertools/logger/lib/esm/Logger.js': { bytesInOutput: 400 },
      'functions/commons/env.ts': { bytesInOutput: 50 },
      'functions/commons/errors.ts': { bytesInOutput: 25 },
      'node_modules/zod/v4/core/versions.js': { bytesInOutput: 0 },
    };
    // Act / Assess
    expect(inputShares(inputs)).toEqual([
      { input: 'zod', bytes: 500 },
      { input: '@aws-lambda-powertools/logger', bytes: 400 },
      { input: 'functions/commons', bytes: 75 },
    ]);
  });
});

describe('a step floor: Powertools and its SDK clients', () => {
  it('names the functions/commons/clients modules a bundle holds, once each, sorted', () => {
    // Prepare: metafile input paths as esbuild writes them
    const inputs = [
      'functions/commons/clients/elbv2.ts',
      'functions/commons/clients/ecs.ts',
      'functions/commons/powertools.ts',
      'functions/check-health/check-health.ts',
      '../main/functions/commons/clients/ecs.ts',
      'node_modules/@aws-sdk/client-ecs/dist-es/ECSClient.js',
    ];
    // Act / Assess
    expect(commonsClients(inputs)).toEqual(['ecs', 'elbv2']);
    expect(commonsClients(['functions/commons/env.ts'])).toEqual([]);
  });

  it('re-exports the shared Powertools objects and each client module, so none is dropped', () => {
    // Prepare / Act
    const entry = floorEntry('/p', ['ecs', 'elbv2']);
    // Assess
    expect(entry.split('\n')).toEqual([
      'export { logger, metrics, tracer } from "/p/functions/commons/powertools.ts";',
      'export * as client0 from "/p/functions/commons/clients/ecs.ts";',
      'export * as client1 from "/p/functions/commons/clients/elbv2.ts";',
      '',
    ]);
  });
});

describe('envFromSchema', () => {
  it('gives each variable a handler declares a stand-in its schema accepts', () => {
    // Prepare
    const schema = z.object({
      LOCK_TABLE_NAME: stringVariable(),
      LOCK_LEASE_SECONDS: numberVariable(),
    });
    // Act / Assess
    expect(envFromSchema(schema)).toEqual({
      LOCK_TABLE_NAME: 'bench-lock_table_name',
      LOCK_LEASE_SECONDS: '1',
    });
    expect(envFromSchema(noEnvironment)).toEqual({});
  });

  it('refuses a variable no stand-in satisfies, naming it', () => {
    // Prepare
    const schema = z.object({ SITE_URL: z.string().url() });
    // Act / Assess
    expect(() => envFromSchema(schema)).toThrow('no stand-in value satisfies SITE_URL');
  });
});

describe('failure detection and recovery from a run', () => {
  const events = [
    state('StateEntered', 'CheckHealth', 9_000),
    state('StateEntered', 'FindLastKnownGood', 11_500),
  ];
  const serviceEvents = [
    { type: 'deployment-created', at: 5_000, deploymentId: 'd1', taskDefinition: 'r2' },
    { type: 'deployment-created', at: 11_800, deploymentId: 'd2', taskDefinition: 'r1' },
    { type: 'deployment-completed', at: 14_500, deploymentId: 'd2' },
  ] as never;

  it('measures signal → rollback start and rollback start → known-good deployment completed', () => {
    // Prepare
    const run = scenario({
      scenario: 'unhealthy',
      result: { outcome: 'ROLLED_BACK', events } as never,
      serviceEvents,
      firstFailingSignal: { at: 9_700, kind: 'health-check-failed', task: 't', detail: 'HTTP 500' },
    });
    // Act / Assess
    expect(detectionMs(run)).toBe(1_800);
    expect(recoveryMs(run)).toBe(3_000);
  });

  it('measures signal → refusal when the trial task refused the revision, with nothing to recover', () => {
    // Prepare
    const refusedEvents = [
      state('StateEntered', 'CheckTrial', 6_000),
      state('StateEntered', 'StopRefusedTrial', 8_700),
      state('StateEntered', 'FindLastKnownGood', 20_000),
    ];
    const run = scenario({
      scenario: 'crash',
      result: { outcome: 'FAILED', events: refusedEvents } as never,
      firstFailingSignal: { at: 6_200, kind: 'container-exited', task: 't', detail: 'exit 3' },
    });
    // Act / Assess
    expect(reaction(run)).toEqual({ at: 8_700, kind: 'refused' });
    expect(detectionMs(run)).toBe(2_500);
    expect(recoveryMs(run)).toBe(0);
  });

  it('explains instead of measuring when there was no signal or no rollback', () => {
    // Prepare
    const noSignal = scenario({
      scenario: 'crash',
      result: { outcome: 'ROLLED_BACK', events } as never,
    });
    const noRollback = scenario({
      scenario: 'crash',
      result: { outcome: 'SUCCEEDED', events: [] } as never,
    });
    // Act / Assess
    expect(detectionMs(noSignal)).toBe('no failing signal of a new task was observed');
    expect(detectionMs(noRollback)).toContain('nor entered FindLastKnownGood');
    expect(
      recoveryMs(
        scenario({ scenario: 'crash', result: { outcome: 'ROLLED_BACK', events } as never }),
      ),
    ).toBe('no rollback deployment was created');
  });

  it('builds the three sections with targets, and reports a scenario that did not run as not measured', () => {
    // Prepare
    const good = scenario({
      scenario: 'good',
      result: { outcome: 'SUCCEEDED', events: [] } as never,
      serviceEvents: [
        { type: 'deployment-created', at: 1_000, deploymentId: 'g', taskDefinition: 'r2' },
        { type: 'deployment-completed', at: 7_000, deploymentId: 'g' },
      ] as never,
      load: {
        sent: 300,
        ok: 299,
        failed: 1,
        failures: [{ at: 1, reason: 'HTTP 503' }],
        startedAt: 0,
        endedAt: 1,
        latenciesMs: [],
      },
    });
    const bad = scenario({
      scenario: 'unhealthy',
      result: { outcome: 'ROLLED_BACK', events } as never,
      serviceEvents,
      firstFailingSignal: { at: 9_700, kind: 'health-check-failed', task: 't', detail: 'HTTP 500' },
    });
    const local: LocalScenarios = {
      healthCheck: { path: '/healthz', intervalMs: 1000, rise: 2, fall: 2, timeoutMs: 2000 },
      definition: { StartAt: 'x', States: {} } as never,
      bootstrapMs: 1,
      runs: [good, bad],
      errors: [{ scenario: 'crash', reason: 'docker build failed' }],
    };
    // Act
    const [detect, recover, dropped] = sectionsFromScenarios(local, 10);
    // Assess
    expect(detect?.status).toBe('partial');
    expect(detect?.figures[0]).toMatchObject({ value: 1_800, ratio: 0.9, met: true });
    expect(detect?.figures[1]).toMatchObject({ value: null, notMeasured: 'docker build failed' });
    expect(recover?.figures[0]).toMatchObject({ value: 3_000, ratio: 0.5 });
    expect(dropped?.figures[0]).toMatchObject({ value: 1, met: false });
    expect(dropped?.figures[1]).toMatchObject({ value: 0, met: true });
    expect(rolloutMs(good)).toBe(6_000);
  });
});

describe('selectSections', () => {
  it('runs every section by default, the named ones in run order otherwise, and refuses unknown names', () => {
    // Prepare / Act / Assess
    expect(selectSections([])).toEqual([...SECTIONS]);
    expect(selectSections(['cost', 'lambda'])).toEqual(['lambda', 'cost']);
    expect(() => selectSections(['lambda', 'speed'])).toThrow('unknown section(s) speed');
  });
});

describe('withCarriedOver', () => {
  it('keeps the sections of the previous report that this command did not run, marked, in run order', () => {
    // Prepare: the previous full run, and a run of the faults section alone
    const section = (id: string, title = id) =>
      ({ id, title, status: 'measured', method: '', figures: [] }) as const;
    const previous = {
      startedAt: '2026-11-22T00:29:46.892Z',
      command: 'npm run bench',
      sections: [section('lambda'), section('faults', 'old faults'), section('cost')],
    };
    // Act
    const sections = withCarriedOver([section('faults', 'new faults')], ['faults'], previous);
    // Assess
    expect(sections.map((s) => [s.id, s.title, s.carriedFrom?.startedAt ?? null])).toEqual([
      ['lambda', 'lambda', '2026-11-22T00:29:46.892Z'],
      ['faults', 'new faults', null],
      ['cost', 'cost', '2026-11-22T00:29:46.892Z'],
    ]);
    expect(withCarriedOver([section('cost')], ['cost'], undefined)).toHaveLength(1);
  });
});

describe('dropped requests with a machine baseline', () => {
  it('reports what the machine drops at rest first, held to the same zero target', () => {
    // Prepare: the service dropped 2 of 300 requests with no release running
    const local: LocalScenarios = {
      healthCheck: { path: '/healthz', intervalMs: 1000, rise: 2, fall: 2, timeoutMs: 2000 },
      definition: { StartAt: 'x', States: {} } as never,
      bootstrapMs: 1,
      baseline: {
        sent: 300,
        ok: 298,
        failed: 2,
        failures: [
          { at: 1, reason: 'TimeoutError' },
          { at: 2, reason: 'TimeoutError' },
        ],
        startedAt: 0,
        endedAt: 30_000,
        latenciesMs: [],
      },
      runs: [scenario({ scenario: 'good', result: { outcome: 'SUCCEEDED', events: [] } as never })],
      errors: [],
    };
    // Act
    const dropped = sectionsFromScenarios(local, 10)[2];
    // Assess
    expect(dropped?.figures[0]).toMatchObject({ value: 2, ratio: 0.006667, met: false });
    expect(dropped?.figures[0]?.note).toContain('TimeoutError');
    expect(dropped?.figures[1]).toMatchObject({ value: 0, met: true });
  });
});
