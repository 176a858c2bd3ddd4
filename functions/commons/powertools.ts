import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'stepdeploy';

/** Shared structured logger; never log task definitions or secret values through it. */
export const logger = new Logger({ serviceName });

/** Shared metrics emitter (EMF), namespace from POWERTOOLS_METRICS_NAMESPACE. */
export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'stepdeploy',
});

/** Shared X-Ray tracer; SDK clients are captured where they are created. */
export const tracer = new Tracer({ serviceName });
