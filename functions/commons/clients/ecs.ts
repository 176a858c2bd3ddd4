import { ECSClient } from '@aws-sdk/client-ecs';
import { tracer } from '#commons/powertools.ts';

/** Module-scope ECSClient, traced by X-Ray; throttles that outlast the SDK retries reach the ASL Retry. */
export const ecsClient = tracer.captureAWSv3Client(new ECSClient());
