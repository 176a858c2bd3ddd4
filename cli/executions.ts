import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
} from '@aws-sdk/client-sfn';
import { type ExecutionProgress, summarize } from '#execution/progress.ts';
import { describeSource, describeStarter } from '#execution/source.ts';
import { fromSfnHistory } from '#execution/step-events.ts';
import { type AwsContext, executionArnFor, executionConsoleUrl } from './aws.ts';
import { CliError } from './errors.ts';
import { renderProgress } from './render/text.ts';
import type { CliDeps, CommonFlags } from './runtime.ts';

/** One execution as `status` prints it in --json mode. */
export interface ExecutionReport {
  readonly execution: {
    readonly name: string;
    readonly arn: string;
    readonly stateMachineArn: string;
    readonly source: string;
    readonly startedBy: string;
    readonly consoleUrl: string;
    readonly input: unknown;
  };
  readonly progress: ExecutionProgress;
}

/** The newest execution of a machine, or the named one. */
export async function resolveExecutionArn(
  aws: AwsContext,
  stateMachineArn: string,
  nameOrArn: string | undefined,
): Promise<string> {
  if (nameOrArn) return executionArnFor(stateMachineArn, nameOrArn);
  const listed = await aws.sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1 }));
  const latest = listed.executions?.[0]?.executionArn;
  if (!latest) {
    throw new CliError('This state machine has not run yet.', {
      hint: 'Start one with `stepdeploy release --help`.',
    });
  }
  return latest;
}

/** Every history event of an execution, oldest first (pages through nextToken). */
export async function fetchHistory(aws: AwsContext, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await aws.sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

function parseInput(execution: DescribeExecutionCommandOutput): unknown {
  try {
    return execution.input ? JSON.parse(execution.input) : undefined;
  } catch {
    return execution.input;
  }
}

/** Reads an execution and its history and folds them into a report. */
export async function readExecution(
  aws: AwsContext,
  executionArn: string,
  now: Date,
): Promise<{ report: ExecutionReport; history: HistoryEvent[] }> {
  const execution = await aws.sfn.send(new DescribeExecutionCommand({ executionArn }));
  const history = await fetchHistory(aws, executionArn);
  const input = parseInput(execution);
  const region = executionArn.split(':')[3] ?? (await aws.region());
  return {
    history,
    report: {
      execution: {
        name: execution.name ?? executionArn.split(':').pop() ?? '?',
        arn: executionArn,
        stateMachineArn: execution.stateMachineArn ?? '',
        source: describeSource(input),
        startedBy: describeStarter(input),
        consoleUrl: executionConsoleUrl(region, executionArn),
        input,
      },
      progress: summarize(fromSfnHistory(history), now.getTime()),
    },
  };
}

/** Text form of a report: header facts, then the step table. */
export function renderReport(title: string, report: ExecutionReport): string {
  const body = renderProgress(
    { title, name: report.execution.name, consoleUrl: report.execution.consoleUrl },
    report.progress,
  ).split('\n');
  // What and who go right under the title, before outcome and timing.
  body.splice(
    1,
    0,
    `  release   ${report.execution.source}`,
    `  by        ${report.execution.startedBy}`,
  );
  return body.join('\n');
}

/**
 * Prints an execution once, or (with follow) again on every poll until it stops; sets a
 * non-zero exit code when a followed execution did not succeed.
 */
export async function showExecution(
  deps: CliDeps,
  aws: AwsContext,
  executionArn: string,
  flags: CommonFlags & { readonly follow?: boolean; readonly interval?: number },
  title: string,
  after?: (history: HistoryEvent[], report: ExecutionReport) => Promise<void>,
): Promise<ExecutionReport> {
  for (;;) {
    const { report, history } = await readExecution(aws, executionArn, deps.now());
    const running = report.progress.status === 'RUNNING';
    if (flags.json) {
      deps.io.out(flags.follow ? JSON.stringify(report) : JSON.stringify(report, null, 2));
    } else {
      if (flags.follow && deps.io.isTty) deps.io.out('\u001b[2J\u001b[H');
      deps.io.out(renderReport(title, report));
    }
    if (!flags.follow || !running) {
      if (after) await after(history, report);
      if (flags.follow && report.progress.outcome !== 'succeeded') deps.exitCode = 1;
      return report;
    }
    if (!flags.json && !deps.io.isTty) deps.io.out('');
    await deps.sleep((flags.interval ?? 5) * 1000);
  }
}
