import { describe, expect, it } from 'vitest';
import { judgeInstalled } from '#functions/check-installed/check-installed.ts';
import { checkInstalledOutputSchema } from '#functions/check-installed/schema.ts';
import { installRunTaskSchema, stoppedTask } from '#local/steps/install-wordpress.ts';

describe('judgeInstalled (one /readyz answer)', () => {
  it.each([
    // status, body, state, reason
    [200, 'ready\n', 'INSTALLED', '/readyz answered 200'],
    [503, 'not-installed\n', 'NOT_INSTALLED', /not installed on this database/],
    [503, 'db-unreachable\n', 'UNKNOWN', '/readyz answered 503: db-unreachable'],
    [503, 'db-auth\n', 'UNKNOWN', '/readyz answered 503: db-auth'],
    [503, 'misconfigured\n', 'UNKNOWN', '/readyz answered 503: misconfigured'],
    // The ALB's own 503 (no healthy target) is not the image's not-installed.
    [
      503,
      '<html><body>503 Service Temporarily Unavailable</body></html>',
      'UNKNOWN',
      /^\/readyz answered 503: <html>/,
    ],
    [502, '', 'UNKNOWN', '/readyz answered 502'],
    [404, 'not-installed', 'UNKNOWN', '/readyz answered 404: not-installed'],
    [
      0,
      'TimeoutError: The operation was aborted',
      'UNKNOWN',
      /^\/readyz unreachable \(TimeoutError/,
    ],
  ] as const)('%d %j is %s', (status, body, state, reason) => {
    // Prepare / Act
    const verdict = judgeInstalled(status, body);
    // Assess
    expect(verdict.state).toBe(state);
    expect(verdict.status).toBe(status);
    expect(verdict.reason).toMatch(reason);
    expect(checkInstalledOutputSchema.parse(verdict)).toEqual(verdict);
  });
});

describe('the local InstallWordPress adapter (ecs:runTask.sync shapes)', () => {
  const params = {
    Cluster: 'local',
    TaskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/stepdeploy-e2e:2',
    LaunchType: 'FARGATE',
    Count: 1,
    StartedBy: 'stepdeploy-install',
    NetworkConfiguration: { AwsvpcConfiguration: { Subnets: ['s'], SecurityGroups: ['g'] } },
    Overrides: { ContainerOverrides: [{ Name: 'wordpress', Command: ['stepdeploy-install'] }] },
  };

  it('accepts the command override and refuses an environment override (no secret by input)', () => {
    // Prepare
    const withEnvironment = structuredClone(params) as Record<string, unknown> & typeof params;
    (withEnvironment.Overrides.ContainerOverrides[0] as Record<string, unknown>).Environment = [
      { Name: 'WORDPRESS_ADMIN_PASSWORD', Value: 'x' },
    ];
    // Act
    const ok = installRunTaskSchema.safeParse(params);
    const refused = installRunTaskSchema.safeParse(withEnvironment);
    // Assess
    expect(ok.success).toBe(true);
    expect(refused.success).toBe(false);
  });

  it.each([
    [0, 'EssentialContainerExited', { ExitCode: 0 }],
    [70, 'EssentialContainerExited', { ExitCode: 70 }],
    [undefined, 'TaskFailedToStart', {}],
  ] as const)('exit code %s reads as a stopped task (%s)', (exitCode, stopCode, container) => {
    // Prepare / Act
    const task = stoppedTask({
      arn: 'arn:local:ecs:task/t',
      taskDefinitionArn: params.TaskDefinition,
      containerName: 'wordpress',
      ...(exitCode !== undefined ? { exitCode } : {}),
      stoppedReason: 'Essential container in task exited',
    });
    // Assess
    expect(task).toMatchObject({
      TaskArn: 'arn:local:ecs:task/t',
      LastStatus: 'STOPPED',
      StopCode: stopCode,
      StoppedReason: 'Essential container in task exited',
      Containers: [{ Name: 'wordpress', LastStatus: 'STOPPED', ...container }],
    });
    if (exitCode === undefined)
      expect((task as { Containers: object[] }).Containers[0]).not.toHaveProperty('ExitCode');
  });
});
