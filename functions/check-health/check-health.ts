import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import {
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ecsClient } from '#commons/clients/ecs.ts';
import { elbv2Client } from '#commons/clients/elbv2.ts';
import { classifyAws, DeployError } from '#commons/errors.ts';
import {
  judgeHealth,
  type PacedHealthVerdict,
  type PollTiming,
  paceVerdict,
  pollTimingOf,
} from '#commons/health.ts';
import type { CheckHealthEvent } from './schema.ts';

async function serviceTasks(cluster: string, service: string): Promise<Task[]> {
  const arns: string[] = [];
  for (const desiredStatus of ['RUNNING', 'STOPPED'] as const) {
    let nextToken: string | undefined;
    do {
      const page = await classifyAws('ListTasks', () =>
        ecsClient.send(
          new ListTasksCommand({ cluster, serviceName: service, desiredStatus, nextToken }),
        ),
      );
      arns.push(...(page.taskArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
  }
  const tasks: Task[] = [];
  for (let i = 0; i < arns.length; i += 100) {
    const described = await classifyAws('DescribeTasks', () =>
      ecsClient.send(new DescribeTasksCommand({ cluster, tasks: arns.slice(i, i + 100) })),
    );
    tasks.push(...(described.tasks ?? []));
  }
  return tasks;
}

async function targetGroupTiming(arn: string, maxPollSeconds?: number): Promise<PollTiming> {
  const [groups, attributes] = await Promise.all([
    classifyAws('DescribeTargetGroups', () =>
      elbv2Client.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] })),
    ),
    classifyAws('DescribeTargetGroupAttributes', () =>
      elbv2Client.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn })),
    ),
  ]);
  return pollTimingOf(groups.TargetGroups?.[0], attributes.Attributes ?? [], maxPollSeconds);
}

/**
 * One poll of the health gate: gathers ECS and target-group state, judges it, and paces the
 * next poll by the target group's own settings (read each poll: the settings in force).
 */
export async function checkHealth(
  event: CheckHealthEvent,
  now = new Date(),
): Promise<PacedHealthVerdict> {
  const described = await classifyAws('DescribeServices', () =>
    ecsClient.send(
      new DescribeServicesCommand({ cluster: event.cluster, services: [event.service] }),
    ),
  );
  const service = described.services?.[0];
  if (!service) throw new DeployError(`service ${event.service} not found in ${event.cluster}`);
  const tasks = await serviceTasks(event.cluster, event.service);
  const [health, timing] = await Promise.all([
    classifyAws('DescribeTargetHealth', () =>
      elbv2Client.send(new DescribeTargetHealthCommand({ TargetGroupArn: event.targetGroupArn })),
    ),
    targetGroupTiming(event.targetGroupArn, event.policy.maxPollSeconds),
  ]);
  const verdict = judgeHealth(
    {
      taskDefinitionArn: event.taskDefinitionArn,
      deploymentId: event.deploymentId,
      startedAt: event.startedAt,
      now,
      deployments: service.deployments ?? [],
      tasks,
      targets: health.TargetHealthDescriptions ?? [],
    },
    event.policy,
    event.progress,
  );
  return paceVerdict(verdict, timing);
}
