import { S3Client } from '@aws-sdk/client-s3';
import { tracer } from '#commons/powertools.ts';

/** Module-scope S3Client, traced by X-Ray. */
export const s3Client = tracer.captureAWSv3Client(new S3Client());
