import type { DescribeTasksCommandOutput, Task } from '@aws-sdk/client-ecs';

/**
 * DescribeTasks answers for the one-off verification task, shaped as the ECS API reference
 * documents Task, Attachment and Failure: an awsvpc task's ENI attachment carries subnetId,
 * networkInterfaceId, macAddress, privateDnsName and privateIPv4Address once it is attached
 * (only subnetId while PRECREATED); a stopped task has stopCode and stoppedReason, and its
 * containers an exitCode (or a reason when they never started); a task ECS no longer knows
 * comes back as a failure with reason MISSING.
 */
export const CLUSTER = 'arn:aws:ecs:us-east-1:123456789012:cluster/stepdeploy';
export const TASK =
  'arn:aws:ecs:us-east-1:123456789012:task/stepdeploy/0f5e3c2a9b8d4e7f8a1b2c3d4e5f6a7b';
const TASK_DEFINITION =
  'arn:aws:ecs:us-east-1:123456789012:task-definition/stepdeploy-wordpress-verify:4';
const IMAGE = `123456789012.dkr.ecr.us-east-1.amazonaws.com/stepdeploy/wordpress@sha256:${'c'.repeat(64)}`;

const eni = (status: string, address?: string) => ({
  id: 'a7d2c1f0-1b2c-4d3e-8f9a-0b1c2d3e4f5a',
  type: 'ElasticNetworkInterface',
  status,
  details: [
    { name: 'subnetId', value: 'subnet-0a1b2c3d4e5f60718' },
    ...(address
      ? [
          { name: 'networkInterfaceId', value: 'eni-0123456789abcdef0' },
          { name: 'macAddress', value: '0a:1b:2c:3d:4e:5f' },
          { name: 'privateDnsName', value: `ip-${address.replaceAll('.', '-')}.ec2.internal` },
          { name: 'privateIPv4Address', value: address },
        ]
      : []),
  ],
});

const base = (lastStatus: string, address?: string, attachmentStatus = 'ATTACHED'): Task => ({
  taskArn: TASK,
  clusterArn: CLUSTER,
  taskDefinitionArn: TASK_DEFINITION,
  group: 'family:stepdeploy-wordpress-verify',
  startedBy: 'stepdeploy-verify',
  launchType: 'FARGATE',
  platformVersion: '1.4.0',
  platformFamily: 'Linux',
  cpu: '512',
  memory: '1024',
  desiredStatus: lastStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING',
  lastStatus,
  availabilityZone: 'us-east-1a',
  createdAt: new Date('2026-02-01T06:20:00Z'),
  attachments: [eni(attachmentStatus, address)],
  containers: [
    {
      containerArn: `arn:aws:ecs:us-east-1:123456789012:container/stepdeploy/0f5e3c2a9b8d4e7f8a1b2c3d4e5f6a7b/6c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f`,
      taskArn: TASK,
      name: 'wordpress',
      image: IMAGE,
      lastStatus,
      networkInterfaces: address
        ? [{ attachmentId: 'a7d2c1f0-1b2c-4d3e-8f9a-0b1c2d3e4f5a', privateIpv4Address: address }]
        : [],
      healthStatus: 'UNKNOWN',
      cpu: '0',
    },
  ],
  tags: [
    { key: 'stepdeploy:scratch', value: 'true' },
    { key: 'stepdeploy:run-id', value: 'verify-2026-02-01' },
  ],
});

const answer = (tasks: Task[], failures: DescribeTasksCommandOutput['failures'] = []) => ({
  tasks,
  failures,
  $metadata: { httpStatusCode: 200, requestId: '2b7e1f3c-9d4a-4e5b-8c6d-7f8091a2b3c4' },
});

/** Just placed: the ENI is being created, no address yet. */
export const provisioning = () => answer([base('PROVISIONING', undefined, 'PRECREATED')]);

/** Attached and pulling the image: an address, not running yet. */
export const pending = (address = '10.0.3.17') => answer([base('PENDING', address)]);

/** Running at `address`. */
export const running = (address = '10.0.3.17') =>
  answer([{ ...base('RUNNING', address), startedAt: new Date('2026-02-01T06:21:10Z') }]);

/** The container exited: the task stopped with EssentialContainerExited. */
export const exited = (exitCode = 1) => {
  const task = base('STOPPED', '10.0.3.17', 'DELETED');
  return answer([
    {
      ...task,
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      stoppingAt: new Date('2026-02-01T06:22:40Z'),
      stoppedAt: new Date('2026-02-01T06:23:05Z'),
      containers: (task.containers ?? []).map((c) => ({ ...c, exitCode })),
    },
  ]);
};

/** The image could not be pulled: TaskFailedToStart, the container never ran (no exit code). */
export const failedToStart = () => {
  const reason =
    'CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref';
  const task = base('STOPPED', undefined, 'DELETED');
  return answer([
    {
      ...task,
      stopCode: 'TaskFailedToStart',
      stoppedReason: reason,
      stoppedAt: new Date('2026-02-01T06:21:30Z'),
      containers: (task.containers ?? []).map((c) => ({ ...c, reason })),
    },
  ]);
};

/** Stopped more than about an hour ago: ECS answers with a failure instead of the task. */
export const missing = () => answer([], [{ arn: TASK, reason: 'MISSING' }]);
