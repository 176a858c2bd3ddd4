// The synthesized app, as local mode reads it: `cdk synth` run once and cached in the state
// dir until the stack code or the ASL changes, and the state machine definitions taken from
// its templates. Release, bootstrap and backup verification all read it here, so none of
// them has to import another to get a definition.

import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { NamedError } from '#commons/errors.ts';
import { deployServiceSchema } from '#functions/deploy-service/schema.ts';
import { PROJECT_ROOT } from './config.ts';
import { filesUnder, hashFiles } from './content-hash.ts';
import { type CfnTemplate, definitionFromTemplate, readCdkOut } from './template.ts';

const run = (file: string, args: readonly string[], env: NodeJS.ProcessEnv) =>
  new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    execFile(
      file,
      args as string[],
      { cwd: PROJECT_ROOT, env, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) =>
        err ? reject(Object.assign(err, { stderr })) : resolve({ stdout, stderr }),
    );
  });

/** The synthesized templates could not be made or hold no release state machine. */
export class SynthError extends NamedError {
  override readonly name = 'SynthError';
}

/** A hash of everything the synthesized state machines depend on (stack code, ASL, cdk.json). */
export async function synthInputsHash(): Promise<string> {
  const files = [
    ...(await filesUnder(join(PROJECT_ROOT, 'pipeline-stack'))),
    ...(await filesUnder(join(PROJECT_ROOT, 'statemachine'))),
    join(PROJECT_ROOT, 'cdk.json'),
  ];
  return (await hashFiles(PROJECT_ROOT, files)).slice(0, 16);
}

/** Where the cached synthesized templates live in the state dir. */
export function cdkOutDir(stateDir: string): string {
  return join(stateDir, 'cdk.out');
}

/**
 * The CloudFormation templates of the app, from `cdk synth` (the same command and cdk-nag
 * checks a deploy runs), cached in the state dir until the stack code or the ASL changes.
 */
export async function synthesizedTemplates(
  stateDir: string,
  log: (line: string) => void = () => {},
): Promise<{ templates: Record<string, CfnTemplate>; cached: boolean }> {
  const dir = cdkOutDir(stateDir);
  const want = await synthInputsHash();
  const have = await readFile(join(dir, 'stepdeploy-inputs.hash'), 'utf8').catch(() => '');
  const cached = have.trim() === want;
  if (!cached) {
    log('synthesizing the CDK app (cdk synth) for the state machine definitions');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      await run(
        join(PROJECT_ROOT, 'node_modules', '.bin', 'cdk'),
        ['synth', '--quiet', '--output', dir],
        {
          ...process.env,
          // Bundling must use the local esbuild; a silent fallback to Docker bundling fails loudly.
          CDK_DOCKER: '/nonexistent',
        },
      );
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? '';
      throw new SynthError(`cdk synth failed: ${stderr.trim().split('\n').slice(-15).join('\n')}`, {
        cause: error,
      });
    }
    await writeFile(join(dir, 'stepdeploy-inputs.hash'), `${want}\n`, { mode: 0o600 });
  }
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as {
    artifacts?: Record<string, { type?: string }>;
  };
  const stacks = Object.entries(manifest.artifacts ?? {})
    .filter(([, a]) => a.type === 'aws:cloudformation:stack')
    .map(([name]) => name);
  return { templates: readCdkOut(dir, stacks), cached };
}

/**
 * Step Functions sets no practical limit on a Task without TimeoutSeconds (99999999 s); the
 * local runner's timer holds at most 2^31-1 ms, so the largest whole second below that stands in.
 */
export const AWS_DEFAULT_TASK_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

type StateLike = {
  Type?: string;
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  Branches?: { States: Record<string, StateLike> }[];
};

/**
 * The definition with Step Functions' real (unlimited) default made explicit on every Task that sets no
 * timeout: aws-local-stepfunctions applies the ASL spec's 60 s instead, which would cut a
 * Packer build short where AWS would not. Explicit timeouts are kept. Pure.
 */
export function withAwsTaskTimeouts(definition: StateMachineDefinition): StateMachineDefinition {
  const fix = (states: Record<string, StateLike>): Record<string, StateLike> =>
    Object.fromEntries(
      Object.entries(states).map(([name, state]) => {
        let next: StateLike = state;
        if (
          state.Type === 'Task' &&
          state.TimeoutSeconds === undefined &&
          state.TimeoutSecondsPath === undefined
        )
          next = { ...state, TimeoutSeconds: AWS_DEFAULT_TASK_TIMEOUT_SECONDS };
        if (state.Branches)
          next = {
            ...next,
            Branches: state.Branches.map((b) => ({ ...b, States: fix(b.States) })),
          };
        return [name, next];
      }),
    );
  return {
    ...definition,
    States: fix(definition.States as Record<string, StateLike>),
  } as StateMachineDefinition;
}

/**
 * A state machine's ASL from the synthesized templates, substitutions resolved: the one whose
 * name matches `match` (e.g. 'release', 'verify-restore').
 */
export async function stateMachineDefinition(
  stateDir: string,
  match: string,
  log?: (line: string) => void,
): Promise<StateMachineDefinition> {
  const { templates } = await synthesizedTemplates(stateDir, log);
  const pattern = new RegExp(match, 'i');
  const stack = Object.keys(templates).find((name) =>
    Object.values(templates[name]?.Resources ?? {}).some(
      (r) =>
        r.Type === 'AWS::StepFunctions::StateMachine' &&
        pattern.test(String(r.Properties?.StateMachineName ?? '')),
    ),
  );
  if (!stack)
    throw new SynthError(`no stack of the synthesized app holds the ${match} state machine`);
  return withAwsTaskTimeouts(definitionFromTemplate({ stack, templates, match }));
}

/**
 * The desired count the release machine's DeployService sets (the config's `desiredCount`,
 * through its `${DesiredCount}` substitution), read with DeployService's own schema. The
 * application stack creates the service at 0 tasks, so this, not the template, is the count
 * the local bootstrap starts. Pure.
 */
export function releaseDesiredCount(definition: StateMachineDefinition): number {
  const state = definition.States.DeployService as { Parameters?: Record<string, unknown> };
  const count = deployServiceSchema.parse({
    cluster: 'local',
    service: 'local',
    taskDefinitionArn: 'local',
    desiredCount: state?.Parameters?.desiredCount,
  }).desiredCount;
  if (count === undefined)
    throw new SynthError('the release definition sets no desiredCount in DeployService');
  return count;
}

/** The release state machine's ASL from the synthesized templates, substitutions resolved. */
export function releaseDefinition(
  stateDir: string,
  log?: (line: string) => void,
): Promise<StateMachineDefinition> {
  return stateMachineDefinition(stateDir, 'release', log);
}
