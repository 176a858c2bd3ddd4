import { type Command, InvalidArgumentError, Option } from 'commander';
import { sleep } from '#commons/wait.ts';
import type { AwsContext, AwsOptions } from './aws.ts';
import { type CliError, friendlyError } from './errors.ts';

/** The default pipeline stack name (`${prefix}-pipeline` in pipeline-stack/app.ts); `--stack` or STEPDEPLOY_STACK override it. */
export const DEFAULT_STACK_NAME = 'stepdeploy-pipeline';

/** Where a command writes: injected so tests capture output without touching the process. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  readonly isTty: boolean;
}

/** Everything a command needs from the outside world; tests replace each part. */
export interface CliDeps {
  readonly io: Io;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  readonly env: NodeJS.ProcessEnv;
  readonly aws: (options: AwsOptions) => AwsContext | Promise<AwsContext>;
  /** Set by a command that wants a non-zero exit without an error message (a failed release). */
  exitCode: number;
}

/** The process-backed dependencies used by bin/stepdeploy.js. */
export function processDeps(): CliDeps {
  return {
    io: {
      out: (text) => process.stdout.write(`${text}\n`),
      err: (text) => process.stderr.write(`${text}\n`),
      isTty: Boolean(process.stdout.isTTY),
    },
    now: () => new Date(),
    sleep,
    env: process.env,
    // The SDK clients load with the first AWS command, so `--help` and local mode never pay for them.
    aws: async (options) => new (await import('./aws.ts')).AwsContext(options),
    exitCode: 0,
  };
}

/** Flags shared by every AWS command. */
export interface CommonFlags {
  readonly json?: boolean;
  readonly stack?: string;
  readonly region?: string;
  readonly profile?: string;
}

/** Adds --json, --stack, --region and --profile to a command. */
export function withCommonFlags(command: Command, env: NodeJS.ProcessEnv): Command {
  return command
    .option('--json', 'print machine-readable JSON (stable field names) instead of text')
    .addOption(
      new Option('--stack <name>', 'pipeline stack to read outputs from')
        .env('STEPDEPLOY_STACK')
        .default(env.STEPDEPLOY_STACK ?? DEFAULT_STACK_NAME),
    )
    .option('--region <region>', 'AWS region (default: AWS_REGION or your profile)')
    .option('--profile <name>', 'AWS profile (default: AWS_PROFILE)');
}

/** Prints a value: pretty JSON in --json mode, else the text rendering. */
export function print(deps: CliDeps, flags: CommonFlags, value: unknown, text: () => string): void {
  deps.io.out(flags.json ? JSON.stringify(value, null, 2) : text());
}

/**
 * Runs a command body with an AWS context, turning every failure into a friendly message
 * (JSON `{"error": …}` on stdout in --json mode) and a non-zero exit code.
 */
export async function runAws(
  deps: CliDeps,
  flags: CommonFlags,
  body: (aws: AwsContext) => Promise<void>,
): Promise<void> {
  const options: AwsOptions = {
    stack: flags.stack ?? DEFAULT_STACK_NAME,
    ...(flags.region ? { region: flags.region } : {}),
    ...(flags.profile ? { profile: flags.profile } : {}),
  };
  const aws = await deps.aws(options);
  try {
    await body(aws);
  } catch (error) {
    reportError(deps, flags, friendlyError(error, aws.target));
  }
}

/** Prints a CliError (text to stderr, or JSON to stdout) and records its exit code. */
export function reportError(deps: CliDeps, flags: CommonFlags, error: CliError): void {
  deps.exitCode = error.exitCode;
  if (flags.json) {
    deps.io.out(
      JSON.stringify(
        { error: { name: error.name, message: error.message, hint: error.hint ?? null } },
        null,
        2,
      ),
    );
    return;
  }
  deps.io.err(`error: ${error.message}`);
  if (error.hint) deps.io.err(`hint:  ${error.hint}`);
}

/** Parses a positive integer flag, refusing anything else with the flag's name. */
export function positiveInt(flag: string): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!Number.isInteger(number) || number <= 0) {
      throw new InvalidArgumentError(`${flag} must be a positive whole number.`);
    }
    return number;
  };
}
