import { UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { ecsClient } from '#commons/clients/ecs.ts';
import { classifyAws, DeployError } from '#commons/errors.ts';
import { gateStartedAt } from '#commons/health.ts';
import type { DeployServiceEvent } from './schema.ts';

/**
 * Points the service at a task definition revision (and, when given, its desired count: the
 * service starts at zero tasks until the first release) and returns the ECS deployment that
 * carries it. Idempotent: updating to the revision the service already runs starts nothing new,
 * and the PRIMARY deployment for that revision is returned.
 */
export async function deployService(event: DeployServiceEvent, now = new Date()) {
  const updated = await classifyAws('UpdateService', () =>
    ecsClient.send(
      new UpdateServiceCommand({
        cluster: event.cluster,
        service: event.service,
        taskDefinition: event.taskDefinitionArn,
        ...(event.desiredCount !== undefined ? { desiredCount: event.desiredCount } : {}),
      }),
    ),
  );
  const deployment = updated.service?.deployments?.find(
    (d) => d.status === 'PRIMARY' && d.taskDefinition === event.taskDefinitionArn,
  );
  if (!deployment?.id) {
    throw new DeployError(
      `UpdateService did not start a deployment of ${event.taskDefinitionArn} on ${event.service}`,
    );
  }
  return {
    deploymentId: deployment.id,
    taskDefinitionArn: event.taskDefinitionArn,
    startedAt: gateStartedAt(deployment.createdAt, now),
  };
}
