import { RDSClient } from '@aws-sdk/client-rds';
import { tracer } from '#commons/powertools.ts';

/** Module-scope RDSClient, traced by X-Ray. */
export const rdsClient = tracer.captureAWSv3Client(new RDSClient());
