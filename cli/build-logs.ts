import { GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { BatchGetBuildsCommand } from '@aws-sdk/client-codebuild';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { AwsContext } from './aws.ts';

/** Log lines of one source (a build or a Lambda step), ready to print or to emit as JSON. */
export interface LogBlock {
  readonly source: string;
  readonly logGroup?: string;
  readonly logStream?: string;
  readonly lines: readonly { readonly at: number; readonly message: string }[];
}

function parse(text: string | undefined): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CodeBuild build ids an execution started, read from the `codebuild:startBuild(.sync)`
 * task events (`Build.Id` in their output), in start order and without repeats.
 */
export function buildIdsFromHistory(history: readonly HistoryEvent[]): string[] {
  const ids: string[] = [];
  for (const event of history) {
    const details =
      event.taskSubmittedEventDetails ??
      event.taskSucceededEventDetails ??
      (event.taskFailedEventDetails?.resourceType === 'codebuild'
        ? { resourceType: 'codebuild', output: event.taskFailedEventDetails.cause }
        : undefined);
    if (details?.resourceType !== 'codebuild') continue;
    const build = parse(details.output)?.Build as { Id?: unknown } | undefined;
    if (typeof build?.Id === 'string' && !ids.includes(build.Id)) ids.push(build.Id);
  }
  return ids;
}

/** The last `limit` log lines of each build, from the CloudWatch Logs stream CodeBuild wrote. */
export async function fetchBuildLogs(
  aws: AwsContext,
  buildIds: readonly string[],
  limit: number,
): Promise<LogBlock[]> {
  if (buildIds.length === 0) return [];
  const builds = await aws.codebuild.send(new BatchGetBuildsCommand({ ids: [...buildIds] }));
  const blocks: LogBlock[] = [];
  for (const build of builds.builds ?? []) {
    const group = build.logs?.groupName;
    const stream = build.logs?.streamName;
    if (!group || !stream) {
      blocks.push({ source: `build ${build.id}`, lines: [] });
      continue;
    }
    const events = await aws.logs.send(
      new GetLogEventsCommand({
        logGroupName: group,
        logStreamName: stream,
        limit,
        startFromHead: false,
      }),
    );
    blocks.push({
      source: `build ${build.id} (${build.buildStatus ?? 'UNKNOWN'}, phase ${build.currentPhase ?? '?'})`,
      logGroup: group,
      logStream: stream,
      lines: (events.events ?? []).map((line) => ({
        at: line.timestamp ?? 0,
        message: (line.message ?? '').replace(/\n$/, ''),
      })),
    });
  }
  return blocks;
}

/** Text form of log blocks: a heading per source, then its lines. */
export function renderLogBlocks(blocks: readonly LogBlock[]): string {
  if (blocks.length === 0) return 'No build has started in this execution yet.';
  return blocks
    .map((block) =>
      [
        `── ${block.source}`,
        ...(block.lines.length === 0
          ? ['   (no log lines yet)']
          : block.lines.map((line) => line.message)),
      ].join('\n'),
    )
    .join('\n\n');
}
