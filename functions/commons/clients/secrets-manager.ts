import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { tracer } from '#commons/powertools.ts';

/** Module-scope SecretsManagerClient, traced by X-Ray. */
export const secretsManagerClient = tracer.captureAWSv3Client(new SecretsManagerClient());
