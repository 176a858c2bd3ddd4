import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  importCycles,
  importGraph,
  type LayerRule,
  layerViolations,
} from '../support/import-graph.ts';

// The layers of docs/architecture.md, lowest first: a layer may import itself and the layers
// it lists, nothing else. The first rule that holds a file is its layer.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const under = (prefix: string) => (file: string) => file.startsWith(prefix);
const LAMBDA = ['execution', 'functions/commons', 'functions/<step>'];

/** The import rules, one row per layer. */
const LAYERS: readonly LayerRule[] = [
  // The execution model (events, progress, outcome words): pure, shared by every display.
  { name: 'execution', holds: under('execution/'), mayImport: [] },
  { name: 'functions/commons', holds: under('functions/commons/'), mayImport: [] },
  // A step may reuse another step's logic or schema (never its handler, checked below).
  { name: 'functions/<step>', holds: under('functions/'), mayImport: LAMBDA.slice(0, 2) },
  // The CDK app reads constants of the Lambdas (metric names, statuses), never local/ or cli/.
  { name: 'pipeline-stack', holds: under('pipeline-stack/'), mayImport: LAMBDA.slice(1) },
  // Local mode runs the synthesized template (through `cdk synth`), never the stack code.
  { name: 'local', holds: under('local/'), mayImport: LAMBDA },
  { name: 'cli', holds: under('cli/'), mayImport: [...LAMBDA, 'local'] },
  // Test doubles and fixtures shared by test/ and bench/.
  { name: 'testkit', holds: under('testkit/'), mayImport: [...LAMBDA, 'local', 'pipeline-stack'] },
  // The bench drives the command line as a process; bin/cli-bundle.js is its start-up subject.
  { name: 'bench', holds: under('bench/'), mayImport: [...LAMBDA, 'local', 'testkit', 'bin'] },
  { name: 'bin', holds: under('bin/'), mayImport: ['cli'] },
  {
    name: 'test',
    holds: under('test/'),
    mayImport: [...LAMBDA, 'pipeline-stack', 'local', 'cli', 'testkit', 'bench', 'bin'],
  },
  // Root files (vitest.config.ts) stand alone.
  { name: 'root config', holds: (file) => !file.includes('/'), mayImport: [] },
];

const where = (edge: { from: string; line: number; specifier: string; to: string }) =>
  `${edge.from}:${edge.line} imports '${edge.specifier}' (${edge.to})`;

describe('import layers of the repository', () => {
  // Prepare (once: every test below reads the same graph)
  const graph = importGraph(ROOT);

  it('resolves every relative and #alias import to a file', () => {
    // Act
    const broken = graph.unresolved.map(where);

    // Assess
    expect(broken).toEqual([]);
  });

  it('sees static, dynamic, aliased and JavaScript imports', () => {
    // Act
    const has = (from: string, to: string) =>
      graph.edges.some((edge) => edge.from === from && edge.to === to);

    // Assess: a scanner that missed a kind of import would pass every rule below vacuously.
    expect(graph.files.length).toBeGreaterThan(200);
    expect(has('cli/executions.ts', 'execution/progress.ts')).toBe(true); // #execution alias
    expect(has('local/release.ts', 'local/runner.ts')).toBe(true); // relative
    expect(has('bin/stepdeploy.js', 'cli/main.ts')).toBe(true); // dynamic import() in .js
    expect(has('bench/cost.ts', 'testkit/simulated-aws.ts')).toBe(true); // dynamic, aliased
  });

  it('places every source file in a layer', () => {
    // Act
    const { unplaced } = layerViolations(graph, LAYERS);

    // Assess: a new top-level folder needs a row in LAYERS and in docs/architecture.md.
    expect(unplaced).toEqual([]);
  });

  it('imports only downward: each layer only the layers its rule lists', () => {
    // Act
    const { violations } = layerViolations(graph, LAYERS);

    // Assess
    expect(violations.map((violation) => violation.message)).toEqual([]);
  });

  it('lets nothing but cli/, bin/ and test/ import cli/', () => {
    // Act
    const offending = graph.edges
      .filter((edge) => edge.to.startsWith('cli/'))
      .filter((edge) => !/^(cli|bin|test)\//.test(edge.from))
      .map(where);

    // Assess
    expect(offending).toEqual([]);
  });

  it('lets nothing outside test/ import test/', () => {
    // Act
    const offending = graph.edges
      .filter((edge) => edge.to.startsWith('test/') && !edge.from.startsWith('test/'))
      .map(where);

    // Assess
    expect(offending).toEqual([]);
  });

  it('keeps functions/ free of local/, cli/, pipeline-stack/, testkit/, bench/ and test/', () => {
    // Act
    const offending = graph.edges
      .filter((edge) => edge.from.startsWith('functions/'))
      .filter((edge) => /^(local|cli|pipeline-stack|testkit|bench|test)\//.test(edge.to))
      .map(where);

    // Assess: whatever a Lambda imports is bundled into it.
    expect(offending).toEqual([]);
  });

  it('imports no Lambda handler outside test/ (steps share logic and schemas, not handlers)', () => {
    // Act
    const offending = graph.edges
      .filter((edge) => /^functions\/[^/]+\/handler\.ts$/.test(edge.to))
      .filter((edge) => !edge.from.startsWith('test/'))
      .map(where);

    // Assess: a handler builds SDK clients and middy at load; the CDK bundles it by path.
    expect(offending).toEqual([]);
  });

  it('has no import cycle', () => {
    // Act
    const cycles = importCycles(graph).map((loop) => loop.join(' -> '));

    // Assess
    expect(cycles).toEqual([]);
  });
});

describe('the import checks themselves', () => {
  // Prepare: a small repository with one upward import, a cycle and a broken import.
  const root = mkdtempSync(join(tmpdir(), 'stepdeploy-layers-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  write('package.json', JSON.stringify({ imports: { '#lib/*': './lib/*' } }));
  write('lib/a.ts', "import type { B } from '#lib/b.ts';\nexport type A = B;\n");
  write('lib/b.ts', "export type B = string;\nexport const c = () => import('./c.ts');\n");
  write('lib/c.ts', "\n\nexport { A } from './a.ts';\nimport './gone.ts';\n");
  write('lib/d.ts', "import { x } from '../app/main.ts';\nexport const y = x;\n");
  write('app/main.ts', "import { c } from '#lib/b.ts';\nexport const x = c;\n");
  write('node_modules/pkg/index.ts', "import '../../app/main.ts';\n");
  const rules: LayerRule[] = [
    { name: 'lib', holds: (file) => file.startsWith('lib/'), mayImport: [] },
    { name: 'app', holds: (file) => file.startsWith('app/'), mayImport: ['lib'] },
  ];
  const fixture = importGraph(root);

  it('reads type-only, dynamic, re-export and aliased imports, skipping node_modules', () => {
    // Act
    const edges = fixture.edges.map((edge) => `${edge.from} -> ${edge.to}`).sort();

    // Assess
    expect(fixture.files).toEqual(['app/main.ts', 'lib/a.ts', 'lib/b.ts', 'lib/c.ts', 'lib/d.ts']);
    expect(edges).toEqual([
      'app/main.ts -> lib/b.ts',
      'lib/a.ts -> lib/b.ts',
      'lib/b.ts -> lib/c.ts',
      'lib/c.ts -> lib/a.ts',
      'lib/d.ts -> app/main.ts',
    ]);
    expect(fixture.unresolved.map(where)).toEqual(["lib/c.ts:4 imports './gone.ts' ()"]);
  });

  it('names the file, line and specifier of an import its layer may not make', () => {
    // Act
    const { violations } = layerViolations(fixture, rules);

    // Assess
    expect(violations.map((violation) => violation.message)).toEqual([
      "lib/d.ts:1 imports '../app/main.ts' (app/main.ts): lib may not import app (it may import nothing outside itself)",
    ]);
  });

  it('finds the cycle and gives one loop through it', () => {
    // Act
    const cycles = importCycles(fixture);

    // Assess
    expect(cycles).toEqual([['lib/a.ts', 'lib/b.ts', 'lib/c.ts', 'lib/a.ts']]);
  });
});
