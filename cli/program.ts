import { hostname, userInfo } from 'node:os';
import { GetItemCommand, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { Command } from 'commander';
import {
  type LockItem,
  type QueueItem,
  queueKey,
  type ReleaseQueueView,
  releaseQueueView,
} from '#commons/lock.ts';
import type { AwsContext } from './aws.ts';
import { buildIdsFromHistory, fetchBuildLogs, renderLogBlocks } from './build-logs.ts';
import { CliError, UsageError } from './errors.ts';
import { resolveExecutionArn, showExecution } from './executions.ts';
import { chooseRollbackTarget, type LedgerItem, toLedgerEntry } from './ledger.ts';
import {
  alreadyReleasedError,
  manualExecutionName,
  parseS3Flag,
  type ReleaseInput,
  releaseExecutionName,
  type SourceFlags,
  sourceKind,
  validateReleaseInput,
} from './release-input.ts';
import { renderHistory } from './render/history.ts';
import { queueLines } from './render/queue.ts';
import {
  type CliDeps,
  type CommonFlags,
  positiveInt,
  print,
  runAws,
  withCommonFlags,
} from './runtime.ts';

interface FollowFlags extends CommonFlags {
  readonly follow?: boolean;
  readonly interval?: number;
}

/** The `release` command's flags. */
type ReleaseFlags = SourceFlags &
  FollowFlags & { startedBy?: string; dryRun?: boolean; again?: boolean };

function defaultStarter(env: NodeJS.ProcessEnv): string {
  if (env.STEPDEPLOY_STARTED_BY) return env.STEPDEPLOY_STARTED_BY;
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return 'stepdeploy-cli';
  }
}

/** Starts the release machine with a validated input and prints (or follows) the result. */
async function startRelease(
  deps: CliDeps,
  aws: AwsContext,
  input: ReleaseInput,
  flags: FollowFlags,
  kind: 'manual' | 'rollback' = 'manual',
  executionName?: string,
): Promise<void> {
  const stateMachineArn = await aws.output('releaseStateMachineArn');
  const name = executionName ?? manualExecutionName(input, deps.now(), kind);
  let started: { executionArn?: string };
  try {
    started = await aws.sfn.send(
      new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
    );
  } catch (error) {
    // The source's deterministic name is taken: it was released (or is being) already.
    if (error instanceof Error && error.name === 'ExecutionAlreadyExists') {
      throw alreadyReleasedError(input, name);
    }
    throw error;
  }
  const executionArn = started.executionArn ?? '';
  if (flags.follow) {
    await showExecution(deps, aws, executionArn, flags, 'Release');
    return;
  }
  print(deps, flags, { executionArn, name, input }, () =>
    [
      `Release started: ${name}`,
      `  follow it:  stepdeploy status ${name} --follow`,
      '  If another release holds the lock, this one waits its turn (see docs/cli.md).',
    ].join('\n'),
  );
}

/**
 * The release holding the service's lock and the newest one waiting, from the lock table
 * (absent from a stack that predates the queue: nothing to show).
 */
async function readReleaseQueue(aws: AwsContext, now: Date): Promise<ReleaseQueueView | null> {
  const TableName = await aws.optionalOutput('lockTableName');
  const service = await aws.optionalOutput('serviceName');
  if (!TableName || !service) return null;
  const read = async (key: string) => {
    const { Item } = await aws.dynamodb.send(
      new GetItemCommand({ TableName, Key: { service: { S: key } }, ConsistentRead: true }),
    );
    return Item ? unmarshall(Item) : undefined;
  };
  return releaseQueueView(
    (await read(service)) as LockItem | undefined,
    (await read(queueKey(service))) as QueueItem | undefined,
    now,
  );
}

/** Reads every ledger record (one service's partition when the stack names it). */
async function readLedger(aws: AwsContext): Promise<LedgerItem[]> {
  const TableName = await aws.output('ledgerTableName');
  const service = await aws.optionalOutput('serviceName');
  const items: LedgerItem[] = [];
  let ExclusiveStartKey: Record<string, never> | undefined;
  do {
    const page = service
      ? await aws.dynamodb.send(
          new QueryCommand({
            TableName,
            KeyConditionExpression: '#service = :service',
            ExpressionAttributeNames: { '#service': 'service' },
            ExpressionAttributeValues: { ':service': { S: service } },
            ExclusiveStartKey,
          }),
        )
      : await aws.dynamodb.send(new ScanCommand({ TableName, ExclusiveStartKey }));
    for (const item of page.Items ?? []) items.push(unmarshall(item) as LedgerItem);
    ExclusiveStartKey = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (ExclusiveStartKey);
  return items;
}

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
    await runAws(deps, flags, async (aws) => {
      // Everything is checked before the first AWS call, so bad input starts nothing.
      const kind = sourceKind(flags);
      const base = {
        startedBy: (flags.startedBy ?? defaultStarter(deps.env)).slice(0, 128),
        trigger: 'manual' as const,
      };
      let draft: unknown;
      let bucket: string | undefined;
      if (kind === 'codecommit') {
        draft = {
          ...base,
          source: {
            type: 'codecommit',
            commitId: flags.commit,
            ...(flags.branch ? { branch: flags.branch } : {}),
          },
        };
      } else if (kind === 's3') {
        const parsed = parseS3Flag(flags.s3 ?? '');
        bucket = parsed.bucket;
        if (!flags.versionId) {
          throw new UsageError(
            '--s3 needs --version-id: a release builds one exact object version.',
            `Find it with: aws s3api list-object-versions --bucket <artifact bucket> --prefix ${parsed.key}`,
          );
        }
        draft = { ...base, source: { type: 's3', key: parsed.key, versionId: flags.versionId } };
      } else {
        draft = { ...base, source: { type: 'image', imageUri: flags.image } };
      }
      const input = validateReleaseInput(draft);
      if (kind === 's3') {
        const artifacts = await aws.optionalOutput('artifactBucketName');
        bucket ??= artifacts;
        if (artifacts !== undefined && artifacts !== bucket) {
          throw new UsageError(
            `Releases build from the stack's artifact bucket ${artifacts}, not ${bucket}.`,
            `Upload the zip there first: aws s3 cp site.zip s3://${artifacts}/releases/site.zip`,
          );
        }
      }
      // Pure: a refused --again stops here, before anything is started.
      const name = releaseExecutionName(input, {
        again: flags.again ?? false,
        bucket,
        now: deps.now(),
      });
      if (flags.dryRun) {
        print(
          deps,
          flags,
          { dryRun: true, input },
          () =>
            `Input is valid; nothing was started (--dry-run):\n${JSON.stringify(input, null, 2)}`,
        );
        return;
      }
      await startRelease(deps, aws, input, flags, 'manual', name);
    });
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
  ).action(
    async (
      execution: string | undefined,
      flags: FollowFlags & { logs?: boolean; lines: number; verify?: boolean },
    ) => {
      await runAws(deps, flags, async (aws) => {
        const machine = await aws.output(
          flags.verify ? 'verifyRestoreStateMachineArn' : 'releaseStateMachineArn',
        );
        const arn = await resolveExecutionArn(aws, machine, execution);
        await showExecution(
          deps,
          aws,
          arn,
          flags,
          flags.verify ? 'Verification' : 'Release',
          flags.logs
            ? async (history) => {
                const blocks = await fetchBuildLogs(aws, buildIdsFromHistory(history), flags.lines);
                print(deps, flags, { logs: blocks }, () => `\n${renderLogBlocks(blocks)}`);
              }
            : undefined,
        );
        if (!flags.verify && !flags.json) {
          const queue = await readReleaseQueue(aws, deps.now());
          if (queue) deps.io.out(`\n${queueLines(queue).join('\n')}`);
        }
      });
    },
  );

  withCommonFlags(
    program
      .command('history')
      .summary('list past releases from the release ledger, newest first')
      .option('--limit <n>', 'how many releases to show', positiveInt('--limit'), 20)
      .addHelpText('after', '\nExample:\n  $ stepdeploy history --limit 5 --json'),
    deps.env,
  ).action(async (flags: CommonFlags & { limit: number }) => {
    await runAws(deps, flags, async (aws) => {
      const entries = (await readLedger(aws))
        .map(toLedgerEntry)
        .sort((a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? ''))
        .slice(0, flags.limit);
      print(deps, flags, { releases: entries }, () => renderHistory(entries));
    });
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
  ).action(async (flags: FollowFlags & { to?: string; startedBy?: string; dryRun?: boolean }) => {
    await runAws(deps, flags, async (aws) => {
      const direct = flags.to?.includes('@sha256:') ? flags.to : undefined;
      const target = direct
        ? { imageUri: direct, releaseId: undefined, why: 'image named with --to' }
        : chooseRollbackTarget((await readLedger(aws)).map(toLedgerEntry), flags.to);
      const input = validateReleaseInput({
        source: { type: 'image', imageUri: target.imageUri },
        startedBy: (flags.startedBy ?? defaultStarter(deps.env)).slice(0, 128),
        trigger: 'manual',
      });
      if (flags.dryRun) {
        print(
          deps,
          flags,
          { dryRun: true, target, input },
          () =>
            `Would roll back to ${target.imageUri}\n  (${target.why}); nothing was started (--dry-run).`,
        );
        return;
      }
      await startRelease(deps, aws, input, flags, 'rollback');
    });
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
  ).action(async (flags: FollowFlags & { snapshot?: string }) => {
    await runAws(deps, flags, async (aws) => {
      if (flags.snapshot !== undefined && !/^[A-Za-z][A-Za-z0-9:-]{0,254}$/.test(flags.snapshot)) {
        throw new UsageError(`"${flags.snapshot}" is not a DB snapshot identifier.`);
      }
      const stateMachineArn = await aws.output('verifyRestoreStateMachineArn');
      const stamp = deps
        .now()
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d{3}Z$/, 'Z');
      const input = {
        trigger: 'manual',
        startedBy: defaultStarter(deps.env),
        ...(flags.snapshot ? { snapshotId: flags.snapshot } : {}),
      };
      const started = await aws.sfn.send(
        new StartExecutionCommand({
          stateMachineArn,
          name: `verify-manual-${stamp}`,
          input: JSON.stringify(input),
        }),
      );
      const executionArn = started.executionArn ?? '';
      if (flags.follow) {
        await showExecution(deps, aws, executionArn, flags, 'Verification');
        return;
      }
      print(
        deps,
        flags,
        { executionArn, input },
        () =>
          `Backup verification started.\n  follow it:  stepdeploy status --verify ${executionArn.split(':').pop()} --follow`,
      );
    });
  });

  withCommonFlags(
    program
      .command('logs')
      .argument('[execution]', 'execution name or ARN (default: the newest release)')
      .summary('print the image build’s log lines for a release')
      .option('--lines <n>', 'how many lines per build', positiveInt('--lines'), 100)
      .addHelpText('after', '\nExample:\n  $ stepdeploy logs --lines 200'),
    deps.env,
  ).action(async (execution: string | undefined, flags: CommonFlags & { lines: number }) => {
    await runAws(deps, flags, async (aws) => {
      const machine = await aws.output('releaseStateMachineArn');
      const arn = await resolveExecutionArn(aws, machine, execution);
      const { fetchHistory } = await import('./executions.ts');
      const blocks = await fetchBuildLogs(
        aws,
        buildIdsFromHistory(await fetchHistory(aws, arn)),
        flags.lines,
      );
      print(deps, flags, { executionArn: arn, logs: blocks }, () => renderLogBlocks(blocks));
    });
  });

  return program;
}

/** Turns a thrown commander or unexpected error into an exit code (used by main and tests). */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  const code = (error as { exitCode?: unknown })?.exitCode;
  return typeof code === 'number' ? code : 1;
}
