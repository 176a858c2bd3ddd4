import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ASL_ERROR_NAMES, integrationOf } from '#commons/asl-error-names.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const ASLS = ['statemachine/release.asl.json', 'statemachine/verify-restore.asl.json'];

interface State {
  Type: string;
  Resource?: string;
  Retry?: Array<{ ErrorEquals: string[] }>;
  Catch?: Array<{ ErrorEquals: string[] }>;
  Branches?: Array<{ States: Record<string, State> }>;
}

/** Every (ASL, state, Resource, ErrorEquals name), nested branches included. */
function errorUses(): Array<{ asl: string; state: string; resource: string; name: string }> {
  const uses: Array<{ asl: string; state: string; resource: string; name: string }> = [];
  for (const asl of ASLS) {
    const definition = JSON.parse(readFileSync(join(ROOT, asl), 'utf8')) as {
      States: Record<string, State>;
    };
    const visit = (states: Record<string, State>) => {
      for (const [state, body] of Object.entries(states)) {
        for (const rule of [...(body.Retry ?? []), ...(body.Catch ?? [])]) {
          for (const name of rule.ErrorEquals) {
            uses.push({ asl, state, resource: body.Resource ?? '', name });
          }
        }
        for (const branch of body.Branches ?? []) visit(branch.States);
      }
    };
    visit(definition.States);
  }
  return uses;
}

describe('ErrorEquals names of both ASLs (functions/commons/asl-error-names.ts)', () => {
  it('knows every name, and each one on the kind of Task that raises it', () => {
    // Prepare
    const uses = errorUses();
    // Act
    const wrong = uses.filter(({ resource, name }) => {
      const source = ASL_ERROR_NAMES[name];
      return (
        source === undefined ||
        (source.integration !== 'states' && source.integration !== integrationOf(resource))
      );
    });
    // Assess
    expect(uses.length).toBeGreaterThan(50);
    expect(wrong).toEqual([]);
  });

  it('lists no name that neither ASL uses', () => {
    // Prepare
    const used = new Set(errorUses().map((use) => use.name));
    // Act
    const unused = Object.keys(ASL_ERROR_NAMES).filter((name) => !used.has(name));
    // Assess
    expect(unused).toEqual([]);
  });

  it('backs every Lambda error name with a class whose this.name is that name', () => {
    // Prepare
    const lambdaNames = Object.entries(ASL_ERROR_NAMES).filter(
      ([name, source]) => source.integration === 'lambda' && !name.startsWith('Lambda.'),
    );
    // Act
    const mismatched = lambdaNames.filter(
      ([name, source]) =>
        source.errorClass === undefined || new source.errorClass('x').name !== name,
    );
    // Assess
    expect(lambdaNames.map(([name]) => name)).toContain('LockHeldError');
    expect(mismatched.map(([name]) => name)).toEqual([]);
  });

  it.each([
    ['arn:aws:lambda:us-east-1:123456789012:function:f', 'lambda'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an ASL placeholder, not a JS template
    ['${CheckHealthFunctionArn}', 'lambda'],
    ['arn:aws:states:::aws-sdk:rds:createDBSnapshot', 'aws-sdk:rds'],
    ['arn:aws:states:::aws-sdk:ecs:stopTask', 'aws-sdk:ecs'],
    ['arn:aws:states:::ecs:runTask', 'ecs'],
    ['arn:aws:states:::sns:publish', 'sns'],
    ['arn:aws:states:::codebuild:startBuild.sync', 'codebuild'],
    ['arn:aws:states:::states:startExecution.sync:2', 'states-execution'],
  ])('classifies %s as %s', (resource, integration) => {
    // Prepare / Act
    const found = integrationOf(resource);
    // Assess
    expect(found).toBe(integration);
  });

  it('refuses an integration it has no names for', () => {
    // Prepare / Act / Assess
    expect(() => integrationOf('arn:aws:states:::sqs:sendMessage')).toThrow(/sqs:sendMessage/);
  });
});
