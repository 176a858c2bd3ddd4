import { Command } from 'commander';
import type {
  HistoryFlags,
  LogsFlags,
  ReleaseFlags,
  RollbackFlags,
  StatusFlags,
  VerifyBackupFlags,
} from './aws-commands.ts';
import { CliError } from './errors.ts';
import { type CliDeps, positiveInt, runAws, withCommonFlags } from './runtime.ts';

// Loaded inside each action: the SDK clients and everything that speaks to AWS cost more to
// import (about half a second) than `--help` or local mode take in all.
const commands = () => import('./aws-commands.ts');

const HELP_AFTER = `
Examples:
  $ stepdeploy release --commit 3f9a1c2e4b5d6f708192a3b4c5d6e7f8091a2b3c
  $ stepdeploy release --s3 releases/site.zip --version-id 3sL4kqtJlcpXroDTDmJ
  $ stepdeploy status --follow            # live progress of the newest release
  $ stepdeploy history --limit 10         # the release ledger
  $ stepdeploy rollback                   # back to the last known-good release
  $ stepdeploy verify-backup --follow     # prove the latest snapshot restores

Every command takes --json, --stack <name> and --region <region>.
Stack outputs are found through CloudFormation, so no ARN has to be typed.
Docs: docs/cli.md`;

/**
 * Builds the `stepdeploy` program with its AWS commands. Local mode adds its own
 * subcommands to the returned program (see cli/main.ts).
 */
export function buildProgram(deps: CliDeps): Command {
  const program = new Command('stepdeploy')
    .description(
      'Release a containerised WordPress site on ECS through a Step Functions pipeline: ' +
        'build the image, snapshot the database, deploy with health gating, roll back on failure.',
    )
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', HELP_AFTER)
    .configureOutput({
      writeOut: (text) => deps.io.out(text.replace(/\n$/, '')),
      writeErr: (text) => deps.io.err(text.replace(/\n$/, '')),
    });

  withCommonFlags(
    program
      .command('release')
      .summary('start a release from a commit, an S3 object or an image digest')
      .description(
        'Start a release. The input is checked before anything is called; a release that ' +
          'finds another one running waits for the lock, so releases never interleave.',
      )
      .option('--commit <id>', 'full 40-character CodeCommit commit id to build')
      .option('--branch <name>', 'branch the commit belongs to (recorded with the release)')
      .option(
        '--s3 <key>',
        'zip in the artifact bucket to build: releases/site.zip or s3://bucket/key',
      )
      .option('--version-id <id>', 'S3 object version of the zip (required with --s3)')
      .option('--image <uri>', 'deploy an existing image, pinned by digest (uri@sha256:…)')
      .option('--started-by <who>', 'who is releasing (default: user@host)')
      .option(
        '--again',
        'release a commit or object version that was released before, anew (new execution name and release id)',
      )
      .option('--dry-run', 'validate and print the input; start nothing')
      .option('-f, --follow', 'follow the release until it ends')
      .option('--interval <seconds>', 'poll interval with --follow', positiveInt('--interval'), 5)
      .addHelpText(
        'after',
        `
Examples:
  $ stepdeploy release --commit 3f9a1c2e4b5d6f708192a3b4c5d6e7f8091a2b3c --follow
  $ stepdeploy release --commit 3f9a1c2e4b5d6f708192a3b4c5d6e7f8091a2b3c --again   # released before: anew
  $ stepdeploy release --s3 releases/site.zip --version-id 3sL4kqtJlcpXroDTDmJ
  $ stepdeploy release --image 123456789012.dkr.ecr.eu-west-1.amazonaws.com/wp@sha256:<64 hex> --dry-run`,
      ),
    deps.env,
  ).action(async (flags: ReleaseFlags) => {
    await runAws(deps, flags, async (aws) => (await commands()).release(deps, aws, flags));
  });

  withCommonFlags(
    program
      .command('status')
      .argument('[execution]', 'execution name or ARN (default: the newest release)')
      .summary('show the live progress of a release: each step, its duration, the current one')
      .description(
        'Show one release step by step: status, duration, the step running now and, when it ' +
          'failed, the step and the reason. Add --logs for the image build’s log lines.',
      )
      .option('-f, --follow', 'poll until the execution ends')
      .option('--interval <seconds>', 'poll interval with --follow', positiveInt('--interval'), 5)
      .option('--logs', 'also print the last lines of the image build log')
      .option('--lines <n>', 'how many build log lines with --logs', positiveInt('--lines'), 40)
      .option('--verify', 'show the backup verification machine instead of the release machine')
      .addHelpText(
        'after',
        `
Examples:
  $ stepdeploy status                       # newest release
  $ stepdeploy status manual-20250101T120000Z-commit-3f9a1c2e4b5d --follow
  $ stepdeploy status --logs --json`,
      ),
    deps.env,
  ).action(async (execution: string | undefined, flags: StatusFlags) => {
    await runAws(deps, flags, async (aws) =>
      (await commands()).status(deps, aws, execution, flags),
    );
  });

  withCommonFlags(
    program
      .command('history')
      .summary('list past releases from the release ledger, newest first')
      .option('--limit <n>', 'how many releases to show', positiveInt('--limit'), 20)
      .addHelpText('after', '\nExample:\n  $ stepdeploy history --limit 5 --json'),
    deps.env,
  ).action(async (flags: HistoryFlags) => {
    await runAws(deps, flags, async (aws) => (await commands()).history(deps, aws, flags));
  });

  withCommonFlags(
    program
      .command('rollback')
      .summary('release the last known-good (or a named) revision again, through the pipeline')
      .description(
        'Roll back by releasing an earlier image through the release state machine, so the ' +
          'rollback is health-gated, locked and recorded like any release. By default the ' +
          'target is the newest successful release older than the one live now.',
      )
      .option('--to <release>', 'release id from `stepdeploy history`, or an image uri@sha256:…')
      .option('--started-by <who>', 'who is rolling back (default: user@host)')
      .option('--dry-run', 'show the chosen target; start nothing')
      .option('-f, --follow', 'follow the rollback until it ends')
      .option('--interval <seconds>', 'poll interval with --follow', positiveInt('--interval'), 5)
      .addHelpText(
        'after',
        '\nExamples:\n  $ stepdeploy rollback --dry-run\n  $ stepdeploy rollback --to manual-20250101t120000z-commit-3f9a1c2e4b5d --follow',
      ),
    deps.env,
  ).action(async (flags: RollbackFlags) => {
    await runAws(deps, flags, async (aws) => (await commands()).rollback(deps, aws, flags));
  });

  withCommonFlags(
    program
      .command('verify-backup')
      .summary('restore the latest (or a named) snapshot to a scratch database and prove it works')
      .option('--snapshot <id>', 'DB snapshot identifier (default: the newest one)')
      .option('-f, --follow', 'follow the verification until it ends')
      .option('--interval <seconds>', 'poll interval with --follow', positiveInt('--interval'), 5)
      .addHelpText('after', '\nExample:\n  $ stepdeploy verify-backup --follow'),
    deps.env,
  ).action(async (flags: VerifyBackupFlags) => {
    await runAws(deps, flags, async (aws) => (await commands()).verifyBackup(deps, aws, flags));
  });

  withCommonFlags(
    program
      .command('logs')
      .argument('[execution]', 'execution name or ARN (default: the newest release)')
      .summary('print the image build’s log lines for a release')
      .option('--lines <n>', 'how many lines per build', positiveInt('--lines'), 100)
      .addHelpText('after', '\nExample:\n  $ stepdeploy logs --lines 200'),
    deps.env,
  ).action(async (execution: string | undefined, flags: LogsFlags) => {
    await runAws(deps, flags, async (aws) => (await commands()).logs(deps, aws, execution, flags));
  });

  return program;
}

/** Turns a thrown commander or unexpected error into an exit code (used by main and tests). */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  const code = (error as { exitCode?: unknown })?.exitCode;
  return typeof code === 'number' ? code : 1;
}
