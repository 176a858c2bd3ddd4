import { createHash } from 'node:crypto';
import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { ReleaseInput } from '#commons/release.ts';
import type { StartReleaseEvent } from './schema.ts';

/**
 * What StartRelease did: started a new execution, or found the name taken by an earlier one
 * and announced that this push or upload started no release.
 */
export interface StartReleaseResult {
  readonly status: 'started' | 'already-started';
  readonly executionName: string;
  readonly executionArn?: string;
  /** For `already-started`: the SNS message id of the announcement. */
  readonly announcementId?: string;
}

/** What identifies a source for its deterministic execution name (triggers and the CLI). */
export type SourceIdentity =
  | { readonly type: 'codecommit'; readonly commitId: string }
  | {
      readonly type: 's3';
      readonly bucket: string;
      readonly key: string;
      readonly versionId: string;
    };

function slug(text: string, max: number): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, max)
      .replace(/-+$/, '') || 'object'
  );
}

/**
 * The execution name for a trigger event, derived only from what identifies the source
 * (commit id; bucket, key and version id), so a redelivered or repeated event maps to the
 * same name and Step Functions refuses a second start. Lowercase letters, digits and
 * hyphens only, starting with a letter: ValidateInput derives the release id (and the
 * snapshot id) from it, and S3 version ids differ by case, hence the hash.
 */
export function executionNameFor(event: StartReleaseEvent): string {
  return event.trigger === 'codecommit'
    ? sourceExecutionName({ type: 'codecommit', commitId: event.commitId })
    : sourceExecutionName({ type: 's3', ...event });
}

/**
 * The deterministic execution name of a source, shared by the triggers and by `stepdeploy
 * release` (without `--again`), so a person is told when a commit was already released. Pure.
 */
export function sourceExecutionName(source: SourceIdentity): string {
  if (source.type === 'codecommit') return `commit-${source.commitId}`;
  const hash = createHash('sha256')
    .update(`${source.bucket}\0${source.key}\0${source.versionId}`)
    .digest('hex')
    .slice(0, 20);
  const base = slug((source.key.split('/').pop() ?? '').replace(/\.zip$/i, ''), 24);
  return `s3-${base}-${hash}`;
}

/** The command that releases an event's source anew (a fresh execution name). Pure. */
export function againCommand(event: StartReleaseEvent): string {
  return event.trigger === 'codecommit'
    ? `stepdeploy release --commit ${event.commitId} --branch ${event.branch} --again`
    : `stepdeploy release --s3 s3://${event.bucket}/${event.key} --version-id ${event.versionId} --again`;
}

/**
 * The announcement of a push or upload that started no release because its execution name
 * is taken (Step Functions keeps a closed execution's name for 90 days): what was skipped,
 * which execution has the name, and the command that releases it anew. Pure.
 */
export function skippedAnnouncement(
  event: StartReleaseEvent,
  executionName: string,
  stateMachineArn: string,
): { subject: string; message: string } {
  const what =
    event.trigger === 'codecommit'
      ? `A push of commit ${event.commitId} to ${event.branch} of ${event.repository}`
      : `An upload of s3://${event.bucket}/${event.key} (version ${event.versionId})`;
  const existing = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}`;
  const subject =
    event.trigger === 'codecommit'
      ? `stepdeploy SKIPPED: commit ${event.commitId.slice(0, 12)} already released`
      : `stepdeploy SKIPPED: ${(event.key.split('/').pop() ?? event.key).slice(0, 40)} already released`;
  return {
    subject,
    message:
      `${what} by ${event.startedBy} started no release: this source already has one, ` +
      `execution ${executionName} (${existing}); execution names are kept for 90 days. ` +
      `See it with: stepdeploy status ${executionName}. ` +
      `To release the same source again: ${againCommand(event)}`,
  };
}

/** The release state machine input for a trigger event (the schema in #commons/release.ts). */
export function releaseInputFor(event: StartReleaseEvent): ReleaseInput {
  // startedBy is capped by the release schema; an assumed-role ARN keeps its useful tail.
  const startedBy = event.startedBy.length > 128 ? event.startedBy.slice(-128) : event.startedBy;
  if (event.trigger === 'codecommit') {
    return {
      source: { type: 'codecommit', commitId: event.commitId, branch: event.branch },
      trigger: 'codecommit',
      startedBy,
    };
  }
  return {
    source: { type: 's3', key: event.key, versionId: event.versionId },
    trigger: 's3',
    startedBy,
  };
}

/**
 * Starts the release for a trigger event under its deterministic name. A start that finds
 * the name taken (ExecutionAlreadyExists: a redelivered event, or the same commit pushed
 * again, e.g. after a revert) is not a failure, and not silent either: it is announced on
 * the topic with the command that releases the source anew. The release lock, not this
 * function, serialises distinct releases that arrive in a burst.
 */
export async function startRelease(
  event: StartReleaseEvent,
  deps: {
    readonly sfn: SFNClient;
    readonly stateMachineArn: string;
    readonly sns: SNSClient;
    readonly topicArn: string;
  },
): Promise<StartReleaseResult> {
  const executionName = executionNameFor(event);
  try {
    const started = await deps.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: deps.stateMachineArn,
        name: executionName,
        input: JSON.stringify(releaseInputFor(event)),
      }),
    );
    return { status: 'started', executionName, executionArn: started.executionArn };
  } catch (error) {
    if (error instanceof Error && error.name === 'ExecutionAlreadyExists') {
      const { subject, message } = skippedAnnouncement(event, executionName, deps.stateMachineArn);
      // A failed publish throws, so EventBridge retries and the person is still told.
      const published = await deps.sns.send(
        new PublishCommand({
          TopicArn: deps.topicArn,
          Subject: subject,
          Message: message,
          MessageAttributes: {
            severity: { DataType: 'String', StringValue: 'normal' },
            outcome: { DataType: 'String', StringValue: 'SKIPPED' },
          },
        }),
      );
      return { status: 'already-started', executionName, announcementId: published.MessageId };
    }
    throw error;
  }
}
