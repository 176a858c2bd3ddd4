import { SFNClient } from '@aws-sdk/client-sfn';
import { tracer } from '#commons/powertools.ts';

/** Module-scope SFNClient, traced by X-Ray; throttles that outlast the SDK retries reach the ASL Retry. */
export const sfnClient = tracer.captureAWSv3Client(new SFNClient());
