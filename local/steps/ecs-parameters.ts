import { z } from 'zod';

/**
 * The `ecs:runTask` parameters the local RunTask adapters read (StartTrial, InstallWordPress):
 * one Fargate task of a registered revision in the service's network.
 */
export const runTaskParametersSchema = z.object({
  Cluster: z.string().min(1),
  TaskDefinition: z.string().min(1),
  LaunchType: z.literal('FARGATE'),
  Count: z.literal(1),
  StartedBy: z.string().optional(),
  NetworkConfiguration: z.object({ AwsvpcConfiguration: z.object({}).loose() }).loose(),
});

/** The `ecs:stopTask` parameters StopTrial and StopRefusedTrial pass. */
export const stopTaskParametersSchema = z.object({
  Cluster: z.string().min(1),
  Task: z.string().min(1),
  Reason: z.string().optional(),
});

const TASK_ARN_PREFIX = 'arn:local:ecs:task/';

/** The task ARN local RunTask answers for a task container. Pure. */
export const localTaskArn = (containerName: string) => `${TASK_ARN_PREFIX}${containerName}`;

/** The container name of a local task ARN ({@link localTaskArn}); any other text as is. Pure. */
export const containerNameOfTaskArn = (arn: string) =>
  arn.startsWith(TASK_ARN_PREFIX) ? arn.slice(TASK_ARN_PREFIX.length) : arn;
