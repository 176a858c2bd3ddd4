import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { ecsClient } from '#commons/clients/ecs.ts';
import { classifyAws, TaskDefinitionError } from '#commons/errors.ts';
import { cloneTaskDefinition, pinImage } from '#commons/task-definition.ts';
import type { RegisterTaskDefinitionEvent } from './schema.ts';

/**
 * Registers a new revision of the service's current task definition with the image pinned by
 * digest. Returns only ARNs: the task definition itself (with its secret references) never
 * enters the execution state or the logs.
 */
export async function registerTaskDefinition(event: RegisterTaskDefinitionEvent) {
  const described = await classifyAws('DescribeServices', () =>
    ecsClient.send(
      new DescribeServicesCommand({ cluster: event.cluster, services: [event.service] }),
    ),
  );
  const service = described.services?.[0];
  const previous = service?.taskDefinition;
  if (service?.status !== 'ACTIVE' || !previous) {
    const why = described.failures?.[0]?.reason ?? service?.status ?? 'not found';
    throw new TaskDefinitionError(
      `service ${event.service} in ${event.cluster} is not usable: ${why}`,
    );
  }
  const current = await classifyAws('DescribeTaskDefinition', () =>
    ecsClient.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: previous, include: ['TAGS'] }),
    ),
  );
  const image = pinImage(event.imageUri, event.imageDigest);
  const registration = cloneTaskDefinition(current, event.containerName, image);
  const registered = await classifyAws('RegisterTaskDefinition', () =>
    ecsClient.send(new RegisterTaskDefinitionCommand(registration)),
  );
  const td = registered.taskDefinition;
  if (!td?.taskDefinitionArn)
    throw new TaskDefinitionError('RegisterTaskDefinition returned no ARN');
  return {
    taskDefinitionArn: td.taskDefinitionArn,
    previousTaskDefinitionArn: previous,
    family: td.family ?? registration.family,
    revision: td.revision ?? 0,
    image,
  };
}
