import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { tracer } from '#commons/powertools.ts';

/** Module-scope CloudWatchClient, traced by X-Ray. */
export const cloudWatchClient = tracer.captureAWSv3Client(new CloudWatchClient());
