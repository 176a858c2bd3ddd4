import { GetExecutionHistoryCommand, type HistoryEvent, type SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { formatDuration, outcomeLabel } from '#execution/labels.ts';
import type { ExecutionProgress } from '#execution/progress.ts';
import { summarize } from '#execution/progress.ts';
import { describeSource, describeStarter } from '#execution/source.ts';
import { fromSfnHistory } from '#execution/step-events.ts';
import type { ExecutionStatusChange } from './schema.ts';

/** A notice ready for SNS: the subject is capped at SNS's 100 characters. */
export interface Notice {
  readonly subject: string;
  readonly message: string;
}

function parse(text: string | null | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Writes the notice a person reads: what was released, by whom, the outcome, the failing
 * step and its reason, and a console link. Pure: the progress comes from the history.
 */
export function formatNotice(event: ExecutionStatusChange, progress: ExecutionProgress): Notice {
  const detail = event.detail;
  const input = parse(detail.input);
  const what = describeSource(input);
  const outcome = outcomeLabel(progress.outcome === 'running' ? 'failed' : progress.outcome);
  const headline = outcome.split(' (')[0] ?? outcome;
  const console = `https://${event.region}.console.aws.amazon.com/states/home?region=${event.region}#/v2/executions/details/${detail.executionArn}`;
  const lines = [
    `Release ${detail.name}: ${outcome}`,
    '',
    `What:      ${what}`,
    `By:        ${describeStarter(input)}`,
    `Outcome:   ${outcome}`,
    `Duration:  ${formatDuration(progress.durationMs)}`,
  ];
  if (progress.failure) {
    lines.push(`Failed at: ${progress.failure.step}`);
    lines.push(
      `Reason:    ${progress.failure.error}${progress.failure.cause ? ` — ${progress.failure.cause}` : ''}`,
    );
    // The execution's cause is the release's whole message: what it was rolled back to, and a
    // schema change the rollback kept with the snapshot that undoes it.
    const result = detail.cause ?? progress.cause;
    if (result && result !== progress.failure.cause) lines.push(`Result:    ${result}`);
  } else if (detail.error || progress.error) {
    lines.push(
      `Reason:    ${detail.error ?? progress.error}${detail.cause ? ` — ${detail.cause}` : ''}`,
    );
  }
  if (progress.outcome === 'failure-dirty') {
    lines.push(
      '',
      'ACTION NEEDED: the rollback failed; the service may be running a revision that did not pass health gating.',
    );
  }
  lines.push('', `Steps:     ${progress.steps.map((s) => `${s.step} ${s.status}`).join(', ')}`);
  lines.push(`Console:   ${console}`);
  lines.push(`Follow up: stepdeploy status ${detail.name}`);
  const subject = `[stepdeploy] ${headline}: ${what}`.replace(/[\r\n]+/g, ' ');
  return {
    subject: subject.length > 100 ? `${subject.slice(0, 99)}…` : subject,
    message: lines.join('\n'),
  };
}

/** Every history event of the execution, oldest first. */
async function readHistory(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/**
 * True when the execution's own announcing Task (the ASL's `Notify`) published already, so
 * the rule must not announce the release a second time.
 */
export function alreadyAnnounced(progress: ExecutionProgress, announcingStep: string): boolean {
  return progress.steps.some((row) => row.step === announcingStep && row.status === 'succeeded');
}

/**
 * Reads the history, writes the notice and publishes it, unless the execution announced
 * itself; resolves to the notice published, or undefined when it stayed quiet.
 */
export async function notify(
  event: ExecutionStatusChange,
  deps: {
    readonly sfn: SFNClient;
    readonly sns: SNSClient;
    readonly topicArn: string;
    readonly announcingStep: string;
  },
): Promise<Notice | undefined> {
  const history = await readHistory(deps.sfn, event.detail.executionArn);
  const progress = summarize(fromSfnHistory(history), event.detail.stopDate ?? Date.now());
  if (alreadyAnnounced(progress, deps.announcingStep)) return undefined;
  const notice = formatNotice(event, progress);
  await deps.sns.send(
    new PublishCommand({
      TopicArn: deps.topicArn,
      Subject: notice.subject,
      Message: notice.message,
    }),
  );
  return notice;
}
