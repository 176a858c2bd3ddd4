/**
 * Error classes of the verify-restore steps; each `name` is an `ErrorEquals` value in
 * statemachine/verify-restore.asl.json (esbuild keepNames keeps them).
 */

import { NamedError } from './errors.ts';

/** No snapshot to verify: the given id does not exist or is not available, or none was ever taken. */
export class NoSnapshotError extends NamedError {
  override readonly name = 'NoSnapshotError';
}

/** The restored data failed one or more checks; the message lists each failure by name. */
export class DataVerificationError extends Error {
  readonly failures: readonly string[];
  constructor(failures: readonly string[], options?: ErrorOptions) {
    super(`data checks failed: ${failures.join('; ')}`, options);
    this.name = 'DataVerificationError';
    this.failures = failures;
  }
}

/** The scratch database could not be reached or refused the credentials. */
export class ScratchUnreachableError extends NamedError {
  override readonly name = 'ScratchUnreachableError';
}

/** The application did not boot on the restored data; the message says why (readyz reason, stop reason). */
export class ApplicationVerificationError extends NamedError {
  override readonly name = 'ApplicationVerificationError';
}
