import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type CfnTemplate, definitionFromTemplate } from '#local/template.ts';
import { buildApp } from '#testkit/synthesized.ts';

// Ties the buildspec to the two things that give a build its environment: the synthesized
// CodeBuild project and the release ASL's EnvironmentVariablesOverride. A variable the
// buildspec needs that neither supplies fails every build in pre_build, which no mock sees.

const ROOT = resolve(import.meta.dirname, '../..');
const BUILDSPEC = readFileSync(join(ROOT, 'buildspec/buildspec.yml'), 'utf8');

/**
 * Variables CodeBuild sets in every build (CodeBuild user guide, "Environment variables in
 * build environments"); only those the buildspec reads are listed.
 */
const CODEBUILD_PROVIDES = new Set([
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'CODEBUILD_BUILD_NUMBER',
  'CODEBUILD_BUILD_ID',
  'CODEBUILD_RESOLVED_SOURCE_VERSION',
  'CODEBUILD_SRC_DIR',
  'HOME',
]);

interface Buildspec {
  env: { variables: Record<string, string> };
  phases: Record<string, { commands: string[] }>;
}

/** The buildspec's shell text, every phase. */
function commands(spec: Buildspec): string {
  return Object.values(spec.phases)
    .flatMap((phase) => phase.commands)
    .join('\n');
}

/** `${X:?message}`: variables whose absence fails the build by design. */
function requiredVariables(script: string): string[] {
  return [...new Set([...script.matchAll(/\$\{([A-Z][A-Za-z0-9_]*):\?/g)].map((m) => m[1] ?? ''))];
}

/** Upper-case variables the shell reads (`$X` or `${X…}`) that the script does not assign. */
function readVariables(script: string): string[] {
  const assigned = new Set(
    [...script.matchAll(/^\s*(?:export\s+)?([A-Z][A-Za-z0-9_]*)=/gm)].map((m) => m[1]),
  );
  const read = [...script.matchAll(/\$\{?([A-Z][A-Za-z0-9_]*)/g)].map((m) => m[1] ?? '');
  return [...new Set(read)].filter((name) => !assigned.has(name));
}

/** The variables the buildspec header documents (`#   NAME   meaning`). */
function documentedVariables(text: string): string[] {
  const header = text.slice(0, text.indexOf('\nversion:'));
  return [...header.matchAll(/^#\s{3}([A-Z][A-Z0-9_]*)\s{2,}/gm)].map((m) => m[1] ?? '');
}

let projectVariables: string[];
let overrideVariables: string[];
/** `CODEBUILD_SRC_DIR_<id>` of each secondary source: CodeBuild sets one per source. */
let sourceDirVariables: string[];
let project: Record<string, unknown>;
beforeAll(() => {
  // Prepare: the app as deployed, both templates, the release ASL with placeholders resolved.
  const { application, pipeline } = buildApp();
  const templates: Record<string, CfnTemplate> = {
    [application.stackName]: Template.fromStack(application).toJSON() as CfnTemplate,
    [pipeline.stackName]: Template.fromStack(pipeline).toJSON() as CfnTemplate,
  };
  const projects = Object.values(templates[pipeline.stackName]?.Resources ?? {}).filter(
    (r) => r.Type === 'AWS::CodeBuild::Project',
  );
  expect(projects).toHaveLength(1);
  const environment = projects[0]?.Properties?.Environment as {
    EnvironmentVariables?: Array<{ Name: string }>;
  };
  projectVariables = (environment.EnvironmentVariables ?? []).map((v) => v.Name);
  project = projects[0]?.Properties ?? {};
  sourceDirVariables = (
    (project.SecondarySources as Array<{ SourceIdentifier: string }> | undefined) ?? []
  ).map((s) => `CODEBUILD_SRC_DIR_${s.SourceIdentifier}`);
  const definition = definitionFromTemplate({ stack: pipeline.stackName, templates });
  overrideVariables = buildOverrides(definition);
}, 120_000);

/** Names in every codebuild:startBuild Task's EnvironmentVariablesOverride, nested branches too. */
function buildOverrides(definition: StateMachineDefinition): string[] {
  const names: string[] = [];
  const visit = (states: Record<string, unknown>) => {
    for (const state of Object.values(states) as Array<Record<string, unknown>>) {
      if (String(state.Resource ?? '').startsWith('arn:aws:states:::codebuild:startBuild')) {
        const overrides = (state.Parameters as Record<string, unknown>)
          .EnvironmentVariablesOverride as Array<{ Name: string }>;
        names.push(...overrides.map((o) => o.Name));
      }
      for (const branch of (state.Branches as Array<{ States: Record<string, unknown> }>) ?? []) {
        visit(branch.States);
      }
    }
  };
  visit(definition.States as unknown as Record<string, unknown>);
  return names;
}

describe('buildspec environment ↔ synthesized CodeBuild project and release ASL', () => {
  it('supplies every variable the buildspec requires or documents', () => {
    // Prepare
    const spec = parse(BUILDSPEC) as Buildspec;
    const script = commands(spec);
    const supplied = new Set([
      ...projectVariables,
      ...overrideVariables,
      ...Object.keys(spec.env.variables),
      ...CODEBUILD_PROVIDES,
      ...sourceDirVariables,
    ]);
    // Act
    const needed = [
      ...new Set([
        ...requiredVariables(script),
        ...readVariables(script),
        ...documentedVariables(BUILDSPEC),
      ]),
    ];
    // Assess
    expect(requiredVariables(script)).toContain('IMAGE_REPOSITORY_URI');
    expect(needed.filter((name) => !supplied.has(name))).toEqual([]);
  });

  it('sets nothing the buildspec neither reads nor documents', () => {
    // Prepare
    const script = commands(parse(BUILDSPEC) as Buildspec);
    const known = new Set([...readVariables(script), ...documentedVariables(BUILDSPEC)]);
    // Act
    const unused = [...projectVariables, ...overrideVariables].filter((name) => !known.has(name));
    // Assess
    expect(projectVariables).toEqual(['IMAGE_REPOSITORY_URI']);
    expect(unused).toEqual([]);
  });

  it('builds the site from the primary source with the definition shipped as source build', () => {
    // Prepare
    const spec = parse(BUILDSPEC) as Buildspec;
    const script = commands(spec);
    const secondary = project.SecondarySources as Array<Record<string, unknown>>;
    // Assess: the site repository is the primary source, the stack's asset the secondary one.
    expect((project.Source as { Type: string }).Type).toBe('CODECOMMIT');
    expect(secondary).toEqual([expect.objectContaining({ Type: 'S3', SourceIdentifier: 'build' })]);
    // The buildspec ships with the stack (inline, this very file), never read from the site.
    expect(parse((project.Source as { BuildSpec: string }).BuildSpec)).toEqual(spec);
    expect(script).toMatch(/cd "\$\{?CODEBUILD_SRC_DIR_build/);
    expect(script).toContain('-var "site_dir=$CODEBUILD_SRC_DIR"');
    expect(script).toContain('packer/site-hash.sh "$CODEBUILD_SRC_DIR"');
    expect(
      (spec.env as unknown as { 'exported-variables': string[] })['exported-variables'],
    ).toContain('SITE_HASH');
  });
});
