import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ecsClient } from '#commons/clients/ecs.ts';
import { elbv2Client } from '#commons/clients/elbv2.ts';
import { classifyAws, DeployError } from '#commons/errors.ts';
import { type HealthVerdict, judgeHealth } from '#commons/health.ts';
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

/** One poll of the health gate: gathers ECS and target-group state and judges it. */
export async function checkHealth(
  event: CheckHealthEvent,
  now = new Date(),
): Promise<HealthVerdict> {
  const described = await classifyAws('DescribeServices', () =>
    ecsClient.send(
      new DescribeServicesCommand({ cluster: event.cluster, services: [event.service] }),
    ),
  );
  const service = described.services?.[0];
  if (!service) throw new DeployError(`service ${event.service} not found in ${event.cluster}`);
  const tasks = await serviceTasks(event.cluster, event.service);
  const health = await classifyAws('DescribeTargetHealth', () =>
    elbv2Client.send(new DescribeTargetHealthCommand({ TargetGroupArn: event.targetGroupArn })),
  );
  return judgeHealth(
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
}
