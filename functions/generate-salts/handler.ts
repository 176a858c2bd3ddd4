import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import { logger } from '#commons/powertools.ts';
import { generateSaltsResource } from './generate-salts.ts';

// Untraced, unlike the clients in commons/clients: this custom resource runs once per stack
// and its role may put one secret value and write its logs, nothing else (no X-Ray).
const secretsManager = new SecretsManagerClient({});

/**
 * GenerateSalts: the `Custom::WordPressSalts` handler. Fills the salts secret once and answers
 * CloudFormation; it logs the request type and the outcome, never a salt or the response URL.
 */
export const handler = middy()
  .use(injectLambdaContext(logger))
  .handler(async (event: unknown) => {
    const { requestType, generated, response } = await generateSaltsResource(event, {
      secretsManager,
    });
    if (response.Status === 'SUCCESS') {
      logger.info('salts custom resource answered', { requestType, generated });
    } else {
      logger.error('salts custom resource failed', { requestType, reason: response.Reason });
    }
  });
