import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../../cli/main.ts';
import {
  argv,
  COMMIT,
  HEALTH_CAUSE,
  type HistoryBuilder,
  MACHINE_ARN,
  REGION,
  RELEASE_INPUT,
  rolledBackRelease,
  runningRelease,
  SCHEMA_NOTE,
  STACK,
  succeededRelease,
  T0,
  testDeps,
} from './fixtures.ts';

const cfn = mockClient(CloudFormationClient);
const sfn = mockClient(SFNClient);
const ddb = mockClient(DynamoDBClient);
const NAME = `commit-${COMMIT}`;
const EXECUTION_ARN = `arn:aws:states:${REGION}:123456789012:execution:StepdeployRelease:${NAME}`;

function given(history: HistoryBuilder, status: 'RUNNING' | 'SUCCEEDED' | 'FAILED'): void {
  cfn.on(DescribeStacksCommand).resolves({ Stacks: [STACK] });
  sfn.on(ListExecutionsCommand).resolves({
    executions: [
      {
        executionArn: EXECUTION_ARN,
        stateMachineArn: MACHINE_ARN,
        name: NAME,
        status,
        startDate: new Date(T0),
      },
    ],
  });
  sfn.on(DescribeExecutionCommand).resolves({
    executionArn: EXECUTION_ARN,
    stateMachineArn: MACHINE_ARN,
    name: NAME,
    status,
    startDate: new Date(T0),
    input: JSON.stringify(RELEASE_INPUT),
  });
  // Two pages, as GetExecutionHistory returns long histories.
  const half = Math.floor(history.events.length / 2);
  sfn
    .on(GetExecutionHistoryCommand, { executionArn: EXECUTION_ARN, nextToken: undefined })
    .resolves({ events: history.events.slice(0, half), nextToken: 'page-2' })
    .on(GetExecutionHistoryCommand, { executionArn: EXECUTION_ARN, nextToken: 'page-2' })
    .resolves({ events: history.events.slice(half) });
}

beforeEach(() => {
  cfn.reset();
  sfn.reset();
  ddb.reset();
});

describe('stepdeploy status', () => {
  it('shows the release holding the lock and the newest one waiting behind it', async () => {
    // Prepare
    const history = runningRelease();
    given(history, 'RUNNING');
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          ...STACK,
          Outputs: [
            ...(STACK.Outputs ?? []),
            { OutputKey: 'LockTableName', OutputValue: 'sd-lock' },
          ],
        },
      ],
    });
    const now = history.nowMs + 3_000;
    ddb.on(GetItemCommand, { Key: { service: { S: 'stepdeploy-wordpress' } } }).resolves({
      Item: marshall({
        service: 'stepdeploy-wordpress',
        holder: NAME,
        startedBy: 'alice',
        acquiredAt: new Date(T0).toISOString(),
        expiresAt: Math.floor(now / 1000) + 3600,
      }),
    });
    ddb.on(GetItemCommand, { Key: { service: { S: 'stepdeploy-wordpress#queue' } } }).resolves({
      Item: marshall({
        service: 'stepdeploy-wordpress#queue',
        newest: 'commit-0123',
        newestStartedAt: new Date(T0 + 60_000).toISOString(),
        startedBy: 'bob',
        expiresAt: Math.floor(now / 1000) + 3600,
      }),
    });
    const deps = testDeps(now);
    // Act
    const code = await main(argv('status'), deps);
    // Assess
    expect(code).toBe(0);
    const text = deps.stdout.join('\n');
    expect(text).toMatch(new RegExp(`running   ${NAME} by alice since .* \\(lease until `));
    expect(text).toMatch(/waiting {3}commit-0123 by bob, started .*: the newest, it runs next/);
    expect(ddb).toHaveReceivedCommandWith(GetItemCommand, {
      TableName: 'sd-lock',
      ConsistentRead: true,
    });
  });

  it('shows a running release: finished steps, the current step and the time so far', async () => {
    // Prepare
    const history = runningRelease();
    given(history, 'RUNNING');
    const deps = testDeps(history.nowMs + 3_000);
    // Act
    const code = await main(argv('status'), deps);
    // Assess
    expect(code).toBe(0);
    const text = deps.stdout.join('\n');
    expect(text).toContain(`Release ${NAME}`);
    expect(text).toContain('release   commit 3f9a1c2e4b5d on main');
    expect(text).toContain('by        arn:aws:iam::123456789012:user/alice (codecommit)');
    expect(text).toContain('outcome   RUNNING');
    expect(text).toContain('current   CheckHealth');
    expect(text).toMatch(/✓ BuildImage\s+succeeded\s+3m 03s/);
    expect(text).toMatch(/✓ DeployService\s+succeeded\s+1s/);
    expect(text).toMatch(/▶ CheckHealth\s+running\s+\d+s\s+2 visits/);
    expect(text).not.toContain('failed at');
    // Routing-only states are not rows.
    expect(text).not.toMatch(/^\s+. Healthy/m);
    expect(sfn).toHaveReceivedCommandTimes(GetExecutionHistoryCommand, 2);
  });

  it('shows a succeeded release with every step succeeded and no current step', async () => {
    // Prepare
    given(succeededRelease(), 'SUCCEEDED');
    const deps = testDeps();
    // Act
    const code = await main(argv('status', NAME), deps);
    // Assess
    expect(code).toBe(0);
    const text = deps.stdout.join('\n');
    expect(text).toContain('outcome   SUCCEEDED');
    expect(text).not.toContain('current');
    for (const step of [
      'ValidateInput',
      'AcquireLock',
      'BuildImage',
      'RegisterTaskDefinition',
      'DeployService',
      'CheckHealth',
      'SmokeTest',
      'RecordRelease',
      'ReleaseLock',
      'Notify',
    ]) {
      expect(text).toMatch(new RegExp(`✓ ${step}\\s+succeeded`));
    }
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, {
      executionArn: EXECUTION_ARN,
    });
    expect(sfn).not.toHaveReceivedCommand(ListExecutionsCommand);
  });

  it('shows a rolled-back release as failed, naming the failing step and the reason', async () => {
    // Prepare
    given(rolledBackRelease(), 'FAILED');
    const deps = testDeps();
    // Act
    const code = await main(argv('status'), deps);
    // Assess
    expect(code).toBe(0);
    const text = deps.stdout.join('\n');
    expect(text).toContain(
      'outcome   ROLLED BACK (failed; service back on the last known-good revision)',
    );
    expect(text).toContain(`failed at CheckHealth — UnhealthyTargetsError: ${HEALTH_CAUSE}`);
    expect(text).toMatch(
      /✗ CheckHealth\s+failed\s+0\.6s\s+UnhealthyTargetsError: target 10\.0\.1\.23/,
    );
    expect(text).toMatch(/✓ Rollback\s+succeeded/);
    expect(text).toMatch(/✓ CheckRollbackHealth\s+succeeded/);
    expect(text).toMatch(
      /✗ Failed\s+failed\s+0\.0s\s+ROLLED_BACK: Release x FAILED at step CheckHealth/,
    );
    expect(text).not.toContain('SUCCEEDED');
  });

  it('shows the whole outcome under the failing step: a schema change the rollback kept, the snapshot', async () => {
    // Prepare
    given(rolledBackRelease(SCHEMA_NOTE), 'FAILED');
    const deps = testDeps();
    // Act
    const code = await main(argv('status'), deps);
    // Assess
    expect(code).toBe(0);
    const text = deps.stdout.join('\n');
    expect(text).toContain(`failed at CheckHealth — UnhealthyTargetsError: ${HEALTH_CAUSE}`);
    expect(text).toContain(
      `  result    Release x FAILED at step CheckHealth (UnhealthyTargetsError): ${HEALTH_CAUSE}. Rolled back to stepdeploy-wordpress:41, which is healthy.${SCHEMA_NOTE}`,
    );
    expect(text).toMatch(/✓ CompareSchema\s+succeeded/);
  });

  it('--follow polls until the execution ends and exits non-zero when it did not succeed', async () => {
    // Prepare: running on the first poll, rolled back on the second.
    given(rolledBackRelease(), 'FAILED');
    sfn
      .on(GetExecutionHistoryCommand)
      .resolvesOnce({ events: runningRelease().events })
      .resolves({ events: rolledBackRelease().events });
    const deps = testDeps();
    // Act
    const code = await main(argv('status', NAME, '--follow', '--interval', '1'), deps);
    // Assess
    expect(code).toBe(1);
    expect(deps.stdout.filter((chunk) => chunk.startsWith('Release '))).toHaveLength(2);
    expect(deps.stdout.at(-1)).toContain('ROLLED BACK');
  });

  it('--json prints a stable document: execution facts, outcome, failure and step rows', async () => {
    // Prepare
    given(rolledBackRelease(), 'FAILED');
    const deps = testDeps();
    // Act
    const code = await main(argv('status', '--json'), deps);
    // Assess
    expect(code).toBe(0);
    const report = JSON.parse(deps.stdout.join('\n'));
    expect(Object.keys(report)).toEqual(['execution', 'progress']);
    expect(report.execution).toEqual({
      name: NAME,
      arn: EXECUTION_ARN,
      stateMachineArn: MACHINE_ARN,
      source: 'commit 3f9a1c2e4b5d on main',
      startedBy: 'arn:aws:iam::123456789012:user/alice (codecommit)',
      consoleUrl: `https://${REGION}.console.aws.amazon.com/states/home?region=${REGION}#/v2/executions/details/${EXECUTION_ARN}`,
      input: RELEASE_INPUT,
    });
    expect(report.progress).toMatchObject({
      status: 'FAILED',
      outcome: 'rolled-back',
      startedAt: T0,
      currentSteps: [],
      failure: { step: 'CheckHealth', error: 'UnhealthyTargetsError', cause: HEALTH_CAUSE },
      error: 'ROLLED_BACK',
    });
    expect(
      report.progress.steps.map(
        (row: { step: string; status: string }) => `${row.step}:${row.status}`,
      ),
    ).toEqual([
      'ValidateInput:succeeded',
      'AcquireLock:succeeded',
      'BuildAndSnapshot:succeeded',
      'BuildImage:succeeded',
      'RegisterTaskDefinition:succeeded',
      'DeployService:succeeded',
      'WaitForHealth:succeeded',
      'CheckHealth:failed',
      'FindLastKnownGood:succeeded',
      'Rollback:succeeded',
      'WaitForRollbackHealth:succeeded',
      'CheckRollbackHealth:succeeded',
      'CompareSchema:succeeded',
      'RecordRelease:succeeded',
      'ReleaseLock:succeeded',
      'Notify:succeeded',
      'Failed:failed',
    ]);
    expect(report.progress.steps[3]).toEqual({
      step: 'BuildImage',
      stateType: 'Task',
      status: 'succeeded',
      startedAt: T0 + 1_200,
      endedAt: T0 + 183_700,
      durationMs: 182_500,
      visits: 1,
      retries: 0,
    });
    // Same input, same bytes: the JSON form does not depend on the clock for finished runs.
    const again = testDeps(T0 + 9_999_999);
    await main(argv('status', '--json'), again);
    expect(again.stdout).toEqual(deps.stdout);
  });
});
