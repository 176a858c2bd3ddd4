/**
 * What the AWS commands do when they run. cli/program.ts declares the commands and imports
 * this module inside each action, so the SDK clients (and zod, and the shared Lambda code)
 * load only when an AWS command runs, never for `--help` or local mode.
 */
import { hostname, userInfo } from 'node:os';
import { GetItemCommand, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import {
  type LockItem,
  type QueueItem,
  queueKey,
  type ReleaseQueueView,
  releaseQueueView,
} from '#commons/lock.ts';
import type { AwsContext } from './aws.ts';
import { buildIdsFromHistory, fetchBuildLogs, renderLogBlocks } from './build-logs.ts';
import { UsageError } from './errors.ts';
import { fetchHistory, resolveExecutionArn, showExecution } from './executions.ts';
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
import { type CliDeps, type CommonFlags, print } from './runtime.ts';

/** Flags of the commands that can follow an execution. */
export interface FollowFlags extends CommonFlags {
  readonly follow?: boolean;
  readonly interval?: number;
}

/** The `release` command's flags. */
export type ReleaseFlags = SourceFlags &
  FollowFlags & { startedBy?: string; dryRun?: boolean; again?: boolean };

/** The `status` command's flags. */
export type StatusFlags = FollowFlags & { logs?: boolean; lines: number; verify?: boolean };
/** The `history` command's flags. */
export type HistoryFlags = CommonFlags & { limit: number };
/** The `rollback` command's flags. */
export type RollbackFlags = FollowFlags & { to?: string; startedBy?: string; dryRun?: boolean };
/** The `verify-backup` command's flags. */
export type VerifyBackupFlags = FollowFlags & { snapshot?: string };
/** The `logs` command's flags. */
export type LogsFlags = CommonFlags & { lines: number };

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

/** `stepdeploy release`: validates the input, then starts (or dry-runs) the release. */
export async function release(deps: CliDeps, aws: AwsContext, flags: ReleaseFlags): Promise<void> {
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
      () => `Input is valid; nothing was started (--dry-run):\n${JSON.stringify(input, null, 2)}`,
    );
    return;
  }
  await startRelease(deps, aws, input, flags, 'manual', name);
}

/** `stepdeploy status`: one execution step by step, then the release queue. */
export async function status(
  deps: CliDeps,
  aws: AwsContext,
  execution: string | undefined,
  flags: StatusFlags,
): Promise<void> {
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
}

/** `stepdeploy history`: the ledger, newest first. */
export async function history(deps: CliDeps, aws: AwsContext, flags: HistoryFlags): Promise<void> {
  const entries = (await readLedger(aws))
    .map(toLedgerEntry)
    .sort((a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? ''))
    .slice(0, flags.limit);
  print(deps, flags, { releases: entries }, () => renderHistory(entries));
}

/** `stepdeploy rollback`: releases the chosen earlier image through the pipeline. */
export async function rollback(
  deps: CliDeps,
  aws: AwsContext,
  flags: RollbackFlags,
): Promise<void> {
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
}

/** `stepdeploy verify-backup`: starts the verify-restore machine. */
export async function verifyBackup(
  deps: CliDeps,
  aws: AwsContext,
  flags: VerifyBackupFlags,
): Promise<void> {
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
}

/** `stepdeploy logs`: the image build's log lines of an execution. */
export async function logs(
  deps: CliDeps,
  aws: AwsContext,
  execution: string | undefined,
  flags: LogsFlags,
): Promise<void> {
  const machine = await aws.output('releaseStateMachineArn');
  const arn = await resolveExecutionArn(aws, machine, execution);
  const blocks = await fetchBuildLogs(
    aws,
    buildIdsFromHistory(await fetchHistory(aws, arn)),
    flags.lines,
  );
  print(deps, flags, { executionArn: arn, logs: blocks }, () => renderLogBlocks(blocks));
}
