import { SNSClient } from '@aws-sdk/client-sns';
import { tracer } from '#commons/powertools.ts';

/** Module-scope SNSClient, traced by X-Ray. */
export const snsClient = tracer.captureAWSv3Client(new SNSClient());
