import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

// Defaults equal the dashboard's (pipeline-stack/constructs/dashboard.ts METRICS_SERVICE and
// METRICS_NAMESPACE); deployed functions get both from the environment (StepFunction).
// CloudWatch names are case-sensitive: 'stepdeploy' and 'Stepdeploy' are different namespaces.
const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'stepdeploy';

/** Shared structured logger; never log task definitions or secret values through it. */
export const logger = new Logger({ serviceName });

/**
 * Shared metrics emitter (EMF): namespace from POWERTOOLS_METRICS_NAMESPACE, and the `service`
 * dimension Powertools adds to every metric from POWERTOOLS_SERVICE_NAME.
 */
export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Stepdeploy',
});

/** Shared X-Ray tracer; SDK clients are captured where they are created. */
export const tracer = new Tracer({ serviceName });
