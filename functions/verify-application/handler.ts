import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { DescribeTasksCommand } from '@aws-sdk/client-ecs';
import middy from '@middy/core';
import { ecsClient } from '#commons/clients/ecs.ts';
import { readEnv } from '#commons/env.ts';
import { logger } from '#commons/powertools.ts';
import {
  type VerifyApplicationInput,
  VerifyApplicationInputSchema,
  type VerifyApplicationOutput,
} from './schema.ts';
import { type ApplicationProbe, httpGet, judgeApplication } from './verify-application.ts';

const env = readEnv({ CLUSTER_ARN: 'string', APP_PORT: 'number', SITE_HOST: 'string' });

const verify = async (event: VerifyApplicationInput): Promise<VerifyApplicationOutput> => {
  const out = await ecsClient.send(
    new DescribeTasksCommand({ cluster: env.CLUSTER_ARN, tasks: [event.taskArn] }),
  );
  const task = out.tasks?.[0];
  const lastStatus = task?.lastStatus ?? (out.failures?.length ? 'STOPPED' : 'PROVISIONING');
  const address = task?.attachments
    ?.flatMap((a) => a.details ?? [])
    .find((d) => d.name === 'privateIPv4Address')?.value;
  const probe: ApplicationProbe = {
    task: {
      lastStatus,
      stoppedReason: task?.stoppedReason ?? out.failures?.[0]?.reason,
      containers: (task?.containers ?? []).map((c) => ({
        name: c.name ?? '?',
        exitCode: c.exitCode,
        reason: c.reason,
      })),
    },
  };
  if (lastStatus === 'RUNNING' && address) {
    const readyz = await httpGet(address, env.APP_PORT, '/readyz', env.SITE_HOST);
    const home =
      'status' in readyz && readyz.status === 200
        ? await httpGet(address, env.APP_PORT, '/', env.SITE_HOST)
        : undefined;
    Object.assign(probe, { readyz, home });
  }
  const verdict = judgeApplication(probe);
  logger.info('application probe', { taskArn: event.taskArn, ...verdict });
  return verdict;
};

/** VerifyApplication Lambda (in the VPC, verifier security group). */
export const handler = middy(verify)
  .use(injectLambdaContext(logger))
  .use(parser({ schema: VerifyApplicationInputSchema }));
