import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { countTransitions, runLocal, toHistoryEvents } from '#local/runner.ts';
import { type CfnTemplate, definitionFromTemplate } from '#local/template.ts';

const producer: CfnTemplate = {
  Resources: { Cluster: { Type: 'AWS::ECS::Cluster', Properties: {} } },
  Outputs: {
    ClusterArn: {
      Value: { 'Fn::GetAtt': ['Cluster', 'Arn'] },
      Export: { Name: 'app:ClusterArn' },
    },
  },
};
const consumer = (body: string, substitutions: Record<string, unknown>): CfnTemplate => ({
  Resources: {
    Step: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'sd-step' } },
    Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
    Machine: {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: {
        StateMachineName: 'sd-release',
        DefinitionString: body,
        DefinitionSubstitutions: substitutions,
      },
    },
  },
});
// ASL placeholders are `${Name}`; built here so they are not mistaken for template literals.
const ph = (name: string) => `\${${name}}`;
const asl = JSON.stringify({
  StartAt: 'Step',
  States: {
    Step: {
      Type: 'Task',
      Resource: ph('StepArn'),
      Parameters: { topic: ph('TopicArn'), cluster: ph('ClusterArn'), url: ph('Url') },
      Next: 'Pause',
    },
    Pause: { Type: 'Wait', Seconds: 3600, Next: 'Done' },
    Done: { Type: 'Succeed' },
  },
});

describe('local/template definitionFromTemplate', () => {
  it('resolves GetAtt, Ref, Join and cross-stack ImportValue into plausible ARNs', () => {
    // Prepare
    const templates = {
      app: producer,
      pipe: consumer(asl, {
        StepArn: { 'Fn::GetAtt': ['Step', 'Arn'] },
        TopicArn: { Ref: 'Topic' },
        ClusterArn: { 'Fn::ImportValue': 'app:ClusterArn' },
        Url: { 'Fn::Join': ['', ['http://', { Ref: 'AWS::Region' }, '.example']] },
      }),
    };
    // Act
    const definition = definitionFromTemplate({ stack: 'pipe', templates });
    // Assess
    const step = definition.States.Step as { Resource: string; Parameters: Record<string, string> };
    expect(step.Resource).toBe('arn:aws:lambda:us-east-1:123456789012:function:sd-step');
    expect(step.Parameters).toEqual({
      topic: 'arn:aws:sns:us-east-1:123456789012:pipe-topic',
      cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/app-cluster',
      url: 'http://us-east-1.example',
    });
  });

  it('refuses to return a definition with an unfilled placeholder', () => {
    // Prepare
    const templates = { pipe: consumer(asl, { StepArn: 'x', TopicArn: 'y', ClusterArn: 'z' }) };
    // Act
    const act = () => definitionFromTemplate({ stack: 'pipe', templates });
    // Assess
    expect(act).toThrow('unfilled placeholders in pipe: Url');
  });
});

describe('local/runner runLocal', () => {
  const definition = JSON.parse(
    asl.replaceAll(/\$\{[A-Za-z]+\}/g, 'arn:aws:lambda:us-east-1:123456789012:function:x'),
  );

  it('binds handlers by state name, collapses waits and streams events', async () => {
    // Prepare
    const seen: string[] = [];
    // Act
    const run = await runLocal(
      definition,
      { a: 1 },
      {
        handlers: { Step: (input) => ({ got: input }) },
        onEvent: (e) => seen.push(e?.type ?? ''),
      },
    );
    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toEqual({
      got: { topic: expect.any(String), cluster: expect.any(String), url: expect.any(String) },
    });
    expect(seen).toEqual(run.events.map((e) => e?.type));
    expect(countTransitions(run.events)).toBe(3);
    expect(toHistoryEvents(run.events).map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskStateExited',
      'WaitStateEntered',
      'WaitStateExited',
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('names the execution from the instant it starts, never after $$.Execution.StartTime', async () => {
    // Prepare: StartTime as the ASL reads it, next to the name
    const clock: StateMachineDefinition = {
      StartAt: 'Stamp',
      States: {
        Stamp: {
          Type: 'Pass',
          Parameters: { 'startTime.$': '$$.Execution.StartTime', 'name.$': '$$.Execution.Name' },
          End: true,
        },
      },
    };
    const before = Date.now();
    let named: Date | undefined;
    // Act
    const run = await runLocal(
      clock,
      {},
      {
        handlers: {},
        executionName: (startTime) => {
          named = startTime;
          return `run-${startTime.getTime()}`;
        },
      },
    );
    const after = Date.now();
    // Assess
    const output = run.output as { startTime: string; name: string };
    const startTime = Date.parse(output.startTime);
    expect(output.name).toBe(`run-${named?.getTime()}`);
    expect(named?.getTime()).toBeGreaterThanOrEqual(before);
    expect(startTime).toBeGreaterThanOrEqual(named?.getTime() ?? Number.NaN);
    expect(startTime).toBeLessThanOrEqual(after);
  });

  it('fails loudly for a Task with no local handler instead of calling AWS', async () => {
    // Prepare / Act
    const run = await runLocal(definition, {}, { handlers: {} });
    // Assess
    expect(run.status).toBe('FAILED');
    expect(run.cause).toContain('no local handler bound to Task state Step');
  });
});
