import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_DIR, buildBundle } from '../../../bin/cli-bundle.js';
import { main } from '../../../cli/main.ts';
import { argv, testDeps } from './fixtures.ts';

// The launcher runs in a copy of the repository's code, so editing a source or breaking the
// bundle here never touches the checkout the other tests (and people) run.
const ROOT = resolve(import.meta.dirname, '../../..');
const COPY = mkdtempSync(join(tmpdir(), 'sd-bundle-'));
const HOME = join(COPY, '.state');
const HOOKS = join(COPY, 'resolve-log.mjs');
const RESOLVED = join(COPY, 'resolved.txt');

afterAll(() => rmSync(COPY, { recursive: true, force: true }));

beforeAll(async () => {
  for (const path of [
    'bin',
    'cli',
    'execution',
    'local',
    'functions',
    'package.json',
    'tsconfig.json',
  ])
    cpSync(join(ROOT, path), join(COPY, path), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(COPY, 'node_modules'));
  // Records every module specifier the process resolves, to see what a command loads.
  writeFileSync(
    HOOKS,
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  appendFileSync(${JSON.stringify(RESOLVED)}, specifier + '\\n');
  return next(specifier, context);
}
`,
  );
  writeFileSync(
    join(COPY, 'register-hooks.mjs'),
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(HOOKS).href)});\n`,
  );
  await buildBundle({ root: COPY });
});

/** Runs the copy's launcher with NODE_DEBUG=stepdeploy, which names the code it runs. */
function launch(args: readonly string[], opts: { recordResolved?: boolean } = {}) {
  rmSync(RESOLVED, { force: true });
  const run = spawnSync(
    process.execPath,
    [
      ...(opts.recordResolved ? ['--import', join(COPY, 'register-hooks.mjs')] : []),
      join(COPY, 'bin/stepdeploy.js'),
      ...args,
    ],
    {
      env: {
        ...process.env,
        NODE_DEBUG: 'stepdeploy',
        STEPDEPLOY_HOME: HOME,
        STEPDEPLOY_NICE: '0',
      },
      encoding: 'utf8',
    },
  );
  const lines = run.stderr.split('\n').filter(Boolean);
  return {
    status: run.status,
    stdout: run.stdout,
    ran: lines.find((l) => /^STEPDEPLOY \d+: running /.test(l))?.replace(/^.*running /, ''),
    notes: lines.filter((l) => l.startsWith('stepdeploy: ')),
    resolved: opts.recordResolved ? readFileSync(RESOLVED, 'utf8').split('\n') : [],
  };
}

const entry = () =>
  join(
    COPY,
    BUNDLE_DIR,
    (JSON.parse(readFileSync(join(COPY, BUNDLE_DIR, 'manifest.json'), 'utf8')) as { entry: string })
      .entry,
  );

const HEAVY = /^(@aws-sdk\/|aws-cdk-lib|cdk-nag|mysql2|aws-local-stepfunctions|zod|tsx)/;

describe('bin/stepdeploy.js runs the bundle built from the sources as they are', () => {
  it('runs the bundle when no source changed since it was built, with the same --help', async () => {
    // Prepare: the help the sources print when run in-process
    const deps = testDeps();
    await main(argv('--help'), deps);
    // Act
    const run = launch(['--help']);
    // Assess
    expect(run.status).toBe(0);
    expect(run.ran).toBe(entry());
    expect(run.notes).toEqual([]);
    expect(run.stdout).toBe(deps.stdout.map((text) => `${text}\n`).join(''));
    const commands = [...run.stdout.matchAll(/^ {2}([a-z-]+) /gm)].map((m) => m[1]);
    expect(commands).toEqual([
      'release',
      'status',
      'history',
      'rollback',
      'verify-backup',
      'logs',
      'local',
      'help',
    ]);
  });

  it('lists the local commands through the bundle', () => {
    // Act
    const run = launch(['local', '--help']);
    // Assess
    expect(run.ran).toBe(entry());
    const commands = [...run.stdout.matchAll(/^ {2}([a-z-]+) /gm)].map((m) => m[1]);
    expect(commands).toEqual([
      'up',
      'release',
      'rollback',
      'verify-backup',
      'status',
      'down',
      'demo',
      'help',
    ]);
  });

  it('loads neither the AWS SDK, the CDK nor local mode’s runner for --help and local status', () => {
    // Act
    const help = launch(['--help'], { recordResolved: true });
    const status = launch(['local', 'status', '--json'], { recordResolved: true });
    // Assess: the bundle ran, and resolved nothing heavy
    expect(help.ran).toBe(entry());
    expect(help.resolved).toContain('commander');
    expect(help.resolved.filter((s) => HEAVY.test(s))).toEqual([]);
    // What status prints comes from docker, which unit tests do not need: only its loads count.
    expect(status.ran).toBe(entry());
    expect(status.resolved.some((s) => /local-status-\w+\.js$/.test(s))).toBe(true);
    // local status parses STEPDEPLOY_* through local/config.ts's zod schema (issue 15), so zod is
    // the one heavy package it may load; bench/cli-start.ts measures what that costs.
    expect(status.resolved.filter((s) => HEAVY.test(s) && s !== 'zod')).toEqual([]);
  });

  it('still runs the bundle when a source was touched but not changed, and records its mtime', () => {
    // Prepare: what a branch switch and back does to a file
    const before = entry();
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(COPY, 'cli/runtime.ts'), later, later);
    // Act
    const run = launch(['--version']);
    // Assess
    expect(run.stdout).toBe('0.1.0\n');
    expect(run.notes).toEqual([]);
    expect(run.ran).toBe(before);
    const manifest = JSON.parse(readFileSync(join(COPY, BUNDLE_DIR, 'manifest.json'), 'utf8')) as {
      inputs: Record<string, { mtimeMs: number }>;
    };
    expect(manifest.inputs['cli/runtime.ts']?.mtimeMs).toBe(
      statSync(join(COPY, 'cli/runtime.ts')).mtimeMs,
    );
  });

  it('rebuilds the bundle when a source changed, saying so once, and runs the new code', () => {
    // Prepare: an edit to a command's one-line purpose
    const before = entry();
    const program = join(COPY, 'cli/program.ts');
    writeFileSync(
      program,
      readFileSync(program, 'utf8').replace(
        /list past releases[^']*/,
        'list past releases (edited after the build)',
      ),
    );
    // Act
    const first = launch(['--help']);
    const second = launch(['--help']);
    // Assess
    expect(first.stdout).toContain('list past releases (edited after the build)');
    expect(first.notes).toHaveLength(1);
    expect(first.notes[0]).toMatch(
      /^stepdeploy: cli\/program\.ts changed: built the command line bundle \(dist\/cli\) in \d+\.\d s$/,
    );
    expect(first.ran).toBe(entry());
    expect(entry()).not.toBe(before);
    expect(second.notes).toEqual([]);
    expect(second.ran).toBe(entry());
    expect(second.stdout).toBe(first.stdout);
  });

  it('runs the sources with tsx, saying why, when the bundle cannot be rebuilt', () => {
    // Prepare: a source changed, and dist/cli is a file, so nothing can be written there
    const program = join(COPY, 'cli/program.ts');
    writeFileSync(
      program,
      readFileSync(program, 'utf8').replace(
        /list past releases[^']*/,
        'list past releases (edited again)',
      ),
    );
    rmSync(join(COPY, BUNDLE_DIR), { recursive: true });
    writeFileSync(join(COPY, BUNDLE_DIR), '');
    // Act
    const run = launch(['--help']);
    // Assess
    expect(run.status).toBe(0);
    expect(run.ran).toBe('cli/main.ts with tsx');
    expect(run.stdout).toContain('list past releases (edited again)');
    expect(run.notes).toHaveLength(1);
    expect(run.notes[0]).toMatch(
      /^stepdeploy: no bundle was built yet and the bundle could not be rebuilt \(.+\): running the sources with tsx$/,
    );
  });
});
