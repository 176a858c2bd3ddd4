import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { METRICS_SERVICE, RELEASE_METRICS_NAMESPACE } from './metrics.ts';

// Defaults equal the dashboard's (./metrics.ts); deployed functions get both from the
// environment (StepFunction).
// CloudWatch names are case-sensitive: 'stepdeploy' and 'Stepdeploy' are different namespaces.
const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? METRICS_SERVICE;

/** Shared structured logger; never log task definitions or secret values through it. */
export const logger = new Logger({ serviceName });

/**
 * Shared metrics emitter (EMF): namespace from POWERTOOLS_METRICS_NAMESPACE, and the `service`
 * dimension Powertools adds to every metric from POWERTOOLS_SERVICE_NAME.
 */
export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? RELEASE_METRICS_NAMESPACE,
});

/** Shared X-Ray tracer; SDK clients are captured where they are created. */
export const tracer = new Tracer({ serviceName });
