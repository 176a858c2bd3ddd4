/**
 * Error classes whose `name` is matched by `ErrorEquals` in statemachine/release.asl.json.
 * esbuild bundles with keepNames so these names survive minification.
 */

/**
 * The base of the project's named errors: a required message, `cause` passed through, and the
 * `name` each subclass declares (an ASL `ErrorEquals` value, or what a log line shows).
 */
export abstract class NamedError extends Error {
  abstract override readonly name: string;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** The release input is malformed; the message names the offending field. */
export class InvalidInputError extends NamedError {
  override readonly name = 'InvalidInputError';
}

/** Another release holds the service lock; the message names it. */
export class LockHeldError extends NamedError {
  override readonly name = 'LockHeldError';
}

/** A newer release asked for the service while this one waited for the lock: newest wins. */
export class ReleaseSupersededError extends NamedError {
  override readonly name = 'ReleaseSupersededError';
}

/** A release waited for the service lock longer than the lock's lease: something is stuck. */
export class LockWaitTimeoutError extends NamedError {
  override readonly name = 'LockWaitTimeoutError';
}

/** A throttled or transient AWS failure that Step Functions should retry with backoff. */
export class TransientAwsError extends NamedError {
  override readonly name = 'TransientAwsError';
}

/** The service's current task definition cannot be cloned for the new image. */
export class TaskDefinitionError extends NamedError {
  override readonly name = 'TaskDefinitionError';
}

/** The ECS service could not be found or updated. */
export class DeployError extends NamedError {
  override readonly name = 'DeployError';
}

/** The smoke test through the load balancer failed after its bounded retries. */
export class SmokeTestError extends NamedError {
  override readonly name = 'SmokeTestError';
}

/** No revision is known to have passed health gating, so there is nothing to roll back to. */
export class NoKnownGoodError extends NamedError {
  override readonly name = 'NoKnownGoodError';
}

const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'ServerException',
  'InternalServerError',
  'InternalFailure',
  'TimeoutError',
  'ECONNRESET',
  'ETIMEDOUT',
]);

/** True when an SDK error is a throttle or a transient service/network fault. */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const meta = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  const retryable = (error as { $retryable?: unknown }).$retryable;
  const code = (error as { code?: string }).code;
  return (
    TRANSIENT_NAMES.has(error.name) ||
    (code !== undefined && TRANSIENT_NAMES.has(code)) ||
    retryable !== undefined ||
    (meta?.httpStatusCode !== undefined && meta.httpStatusCode >= 500)
  );
}

/**
 * Rethrows throttles and transient faults as TransientAwsError (which the ASL retries) and
 * everything else unchanged (which the ASL catches as a step failure).
 */
export async function classifyAws<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isTransient(error)) {
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new TransientAwsError(`${what}: ${detail}`, { cause: error });
    }
    throw error;
  }
}
