import type { Json } from '../runner.ts';
import type { VerifyBackupSummary } from '../verify-backup.ts';
import type { StepContext } from './context.ts';

/** The Parameters the ASL hands `states:startExecution.sync:2`. */
interface StartExecutionInput {
  readonly StateMachineArn: string;
  readonly Name?: string;
  readonly Input: { readonly snapshotId?: string };
}

/** `startExecution.sync:2`'s failure: States.TaskFailed, the DescribeExecution JSON as Cause. */
export class NestedExecutionFailed extends Error {
  constructor(describeExecution: Record<string, unknown>) {
    super(JSON.stringify(describeExecution));
    this.name = 'States.TaskFailed';
  }
}

/**
 * A local verification's verdict as Step Functions reports a nested execution: on success the
 * DescribeExecution shape (`Output` as JSON, the `.sync:2` form), on failure NestedExecutionFailed
 * whose Cause carries `Error` (the failing check's error name) and `Cause` (the check and its
 * reason), as the verify-restore machine's Fail state names them on AWS. Pure.
 */
export function asNestedExecution(
  summary: Pick<
    VerifyBackupSummary,
    'executionName' | 'outcome' | 'snapshotId' | 'failedCheck' | 'error' | 'reason'
  >,
  startedAt: Date,
  stoppedAt: Date,
): Json {
  const name = summary.executionName;
  const common = {
    ExecutionArn: `arn:aws:states:local:000000000000:execution:local-verify-restore:${name}`,
    StateMachineArn: 'arn:aws:states:local:000000000000:stateMachine:local-verify-restore',
    Name: name,
    StartDate: startedAt.toISOString(),
    StopDate: stoppedAt.toISOString(),
  };
  if (summary.outcome === 'PASSED') {
    return { ...common, Status: 'SUCCEEDED', Output: { snapshotId: summary.snapshotId } };
  }
  throw new NestedExecutionFailed({
    ...common,
    Status: 'FAILED',
    Error: summary.error ?? 'VerificationFailed',
    Cause: `backup verification failed at ${summary.failedCheck ?? 'an unknown step'}: ${summary.reason ?? 'no reason given'}`,
  });
}

/**
 * VerifyBackup (`states:startExecution.sync:2` on the verify-restore machine), locally: runs
 * that machine from the synthesized template on this snapshot with verifyBackupLocally (scratch
 * MariaDB restored from the local snapshot, VerifyData against the manifest the snapshot
 * recorded, the service's image booted on it, everything removed afterwards) and answers as a
 * nested execution does.
 */
export function verifyBackup(ctx: Pick<StepContext, 'config' | 'database' | 'note' | 'announce'>) {
  return async (raw: Json): Promise<Json> => {
    const input = raw as unknown as StartExecutionInput;
    const snapshotId = input.Input?.snapshotId;
    if (!snapshotId) throw new Error('VerifyBackup: Input.snapshotId is required');
    // Loaded on first use: local/verify-backup.ts reaches back into local/release.ts.
    const { verifyBackupLocally } = await import('../verify-backup.ts');
    const startedAt = new Date();
    const result = await verifyBackupLocally({
      config: ctx.config,
      snapshotId,
      live: ctx.database,
      hooks: { note: ctx.note, announce: ctx.announce },
    });
    ctx.note(
      `VerifyBackup: ${snapshotId} ${result.outcome}${result.failedCheck ? ` at ${result.failedCheck}: ${result.reason}` : ''}`,
    );
    return asNestedExecution(result, startedAt, new Date());
  };
}
