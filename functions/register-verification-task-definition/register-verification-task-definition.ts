/** RegisterVerificationTaskDefinition: the verification's own revision of the current one (thin I/O). */
import {
  DescribeTaskDefinitionCommand,
  type ECSClient,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { classifyAws, TaskDefinitionError } from '#commons/errors.ts';
import { verificationTaskDefinition } from '#commons/task-definition.ts';
import type {
  RegisterVerificationTaskDefinitionEvent,
  RegisterVerificationTaskDefinitionOutput,
} from './schema.ts';

/**
 * Describes the revision the service runs and registers its verification twin (no live
 * uploads, scratch site URL). Registering again on a retry only adds a revision.
 */
export async function registerVerificationTaskDefinition(
  ecs: ECSClient,
  event: RegisterVerificationTaskDefinitionEvent,
): Promise<RegisterVerificationTaskDefinitionOutput> {
  const current = await classifyAws('DescribeTaskDefinition', () =>
    ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: event.taskDefinitionArn })),
  );
  const input = verificationTaskDefinition(current, event.containerName, event.siteUrl);
  const registered = await classifyAws('RegisterTaskDefinition', () =>
    ecs.send(new RegisterTaskDefinitionCommand(input)),
  );
  const arn = registered.taskDefinition?.taskDefinitionArn;
  if (!arn)
    throw new TaskDefinitionError(`RegisterTaskDefinition returned no ARN for ${input.family}`);
  return { taskDefinitionArn: arn, sourceTaskDefinitionArn: event.taskDefinitionArn };
}
