import type { Command } from 'commander';
import { CliError } from './errors.ts';
import type { JsonFlag, ReleaseFlags } from './local-commands.ts';
import { type CliDeps, reportError } from './runtime.ts';

// Imported inside the actions: what a local command runs (the state machine runner, Packer,
// the MariaDB client) costs more to load than `--help` takes in all, and `local status`
// needs only the part that reads the state.
const localCommands = () => import('./local-commands.ts');
const localStatus = () => import('./local-status.ts');

/** Runs a command body, turning failures into a message (or `{"error": …}` with --json). */
async function guarded(deps: CliDeps, flags: JsonFlag, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    reportError(
      deps,
      flags,
      error instanceof CliError
        ? error
        : new CliError(error instanceof Error ? error.message : String(error), { cause: error }),
    );
  }
}

/** Adds `stepdeploy local …`: the same release machine on Docker, HAProxy, MariaDB and Packer. */
export function registerLocalCommands(program: Command, deps: CliDeps): void {
  const local = program
    .command('local')
    .summary('run the release pipeline on this machine (Docker, HAProxy, MariaDB, Packer)')
    .description(
      'Local mode: the release state machine from the synthesized template, run by ' +
        'aws-local-stepfunctions with each step bound to a real local part, all on 127.0.0.1. ' +
        'State lives in $STEPDEPLOY_HOME (default <project>/.stepdeploy). See docs/local.md.',
    );

  local
    .command('up')
    .summary('start the local stack and the WordPress service (idempotent; like cdk deploy)')
    .option('--verbose', 'stream the bootstrap image build output')
    .option('--json', 'print machine-readable JSON on stdout')
    .action((flags: JsonFlag & { verbose?: boolean }) =>
      guarded(deps, flags, async () => (await localCommands()).upCommand(deps, flags)),
    );

  local
    .command('release')
    .summary('release a source revision (or an existing image) through the release state machine')
    .option(
      '--source <dir>',
      "the site's code to build: themes/, plugins/, mu-plugins/, site.yml (default: the repository's site/)",
    )
    .option('--revision <label>', 'a label for this release (default: r<UTC time>)')
    .option(
      '--fault <kind>',
      'build a deliberately bad image: healthz (its /healthz answers 500), home (the home page answers 500), crash (exits at start)',
    )
    .option('--image <uri>', 'redeploy an existing image, pinned by digest (uri@sha256:…)')
    .option('--started-by <who>', 'who is releasing (default: user@host)')
    .option('--verbose', 'stream the Packer/Ansible build output')
    .option('--json', 'print the result as JSON on stdout (progress stays on stderr)')
    .addHelpText(
      'after',
      '\nThe source is built as CodeBuild would get it and recorded by its content hash; a source\nbuilt before is not rebuilt.\n\nExamples:\n  $ stepdeploy local release\n  $ stepdeploy local release --source ../my-site --revision v2\n  $ stepdeploy local release --revision v3 --fault healthz --json',
    )
    .action((flags: ReleaseFlags) =>
      guarded(deps, flags, async () => (await localCommands()).releaseCommand(deps, flags)),
    );

  local
    .command('rollback')
    .summary('release the last known-good image again, through the release state machine')
    .option('--to <release>', 'release id from `stepdeploy local status` to release again')
    .option('--started-by <who>', 'who is rolling back (default: user@host)')
    .option('--verbose', 'stream build output (none: rollbacks reuse the image)')
    .option('--json', 'print the result as JSON on stdout')
    .action((flags: ReleaseFlags & { to?: string }) =>
      guarded(deps, flags, async () => (await localCommands()).rollbackCommand(deps, flags)),
    );

  local
    .command('verify-backup')
    .summary(
      'restore a local snapshot into a scratch MariaDB, verify its data, boot WordPress on it',
    )
    .description(
      'Runs the verify-restore state machine locally: restores the snapshot (default: the newest) ' +
        'into a scratch MariaDB container, runs VerifyData against its manifest, boots the ' +
        "service's current revision on it at 127.0.0.1, removes both containers on every path " +
        'and reports RTO and RPO. Exit code 1 names the failed check.',
    )
    .option('--snapshot <id>', 'snapshot to verify (default: the newest local snapshot)')
    .option('--json', 'print the result as JSON on stdout (progress stays on stderr)')
    .action((flags: JsonFlag & { snapshot?: string }) =>
      guarded(deps, flags, async () => (await localCommands()).verifyBackupCommand(deps, flags)),
    );

  local
    .command('status')
    .summary('show the service revision, its tasks and their target health, the last releases')
    .option('--json', 'print machine-readable JSON on stdout')
    .action((flags: JsonFlag) =>
      guarded(deps, flags, async () => (await localStatus()).statusCommand(deps, flags)),
    );

  local
    .command('down')
    .summary('remove every container, volume and network of the local stack, and its state')
    .option('--keep-data', 'keep the state dir and the data volumes (database, uploads, registry)')
    .option('--json', 'print machine-readable JSON on stdout')
    .action((flags: JsonFlag & { keepData?: boolean }) =>
      guarded(deps, flags, async () => (await localCommands()).downCommand(deps, flags)),
    );

  local
    .command('demo')
    .summary('one line from nothing to a released site: up, release, print the URL and the steps')
    .option('--revision <label>', 'source revision label (default: demo)')
    .option('--verbose', 'stream the build output')
    .option('--json', 'print the release result as JSON on stdout')
    .action((flags: ReleaseFlags) =>
      guarded(deps, flags, async () => (await localCommands()).demoCommand(deps, flags)),
    );
}
