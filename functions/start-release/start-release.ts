import { createHash } from 'node:crypto';
import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { ReleaseInput } from '#commons/release.ts';
import type { StartReleaseEvent } from './schema.ts';

/** What StartRelease did: started a new execution, or found the same one already started. */
export interface StartReleaseResult {
  readonly status: 'started' | 'already-started';
  readonly executionName: string;
  readonly executionArn?: string;
}

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
  if (event.trigger === 'codecommit') return `commit-${event.commitId}`;
  const hash = createHash('sha256')
    .update(`${event.bucket}\0${event.key}\0${event.versionId}`)
    .digest('hex')
    .slice(0, 20);
  const base = slug((event.key.split('/').pop() ?? '').replace(/\.zip$/i, ''), 24);
  return `s3-${base}-${hash}`;
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
 * twice) is reported as already started, not as a failure; the release lock, not this
 * function, serialises distinct releases that arrive in a burst.
 */
export async function startRelease(
  event: StartReleaseEvent,
  deps: { readonly sfn: SFNClient; readonly stateMachineArn: string },
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
      return { status: 'already-started', executionName };
    }
    throw error;
  }
}
