/**
 * An error the command line shows as-is: what went wrong and what to do about it.
 * `exitCode` 2 means the command was used wrongly (nothing was started), 1 anything else.
 */
export class CliError extends Error {
  readonly hint?: string;
  readonly exitCode: number;
  constructor(
    message: string,
    options: { hint?: string; exitCode?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Bad flags or release input, refused before anything is called. */
export class UsageError extends CliError {
  constructor(message: string, hint?: string) {
    super(message, { hint, exitCode: 2 });
    this.name = 'UsageError';
  }
}

/** The stack, or one of its outputs, is not where the command looked. */
export class StackNotFoundError extends CliError {
  constructor(message: string, hint: string) {
    super(message, { hint });
    this.name = 'StackNotFoundError';
  }
}

const CREDENTIAL_ERRORS = new Set(['CredentialsProviderError', 'ProviderError']);
const INVALID_CREDENTIAL_ERRORS = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'ExpiredTokenException',
  'TokenRefreshRequired',
]);

/** Where the command was pointed, so messages can name it. */
export interface Target {
  readonly stackName: string;
  readonly region?: string;
}

/**
 * Turns an SDK or network error into a CliError that says what to do. Errors that are
 * already CliErrors pass through unchanged.
 */
export function friendlyError(error: unknown, target: Target): CliError {
  if (error instanceof CliError) return error;
  if (!(error instanceof Error)) return new CliError(String(error));
  const where = target.region ? `in region ${target.region}` : 'in the configured region';
  const name = error.name;
  if (CREDENTIAL_ERRORS.has(name) || /Could not load credentials/i.test(error.message)) {
    return new CliError('No AWS credentials were found.', {
      hint: 'Run `aws configure` (or `aws sso login`), or set AWS_PROFILE to a configured profile.',
      cause: error,
    });
  }
  if (INVALID_CREDENTIAL_ERRORS.has(name)) {
    return new CliError(`AWS rejected the credentials (${name}): they are invalid or expired.`, {
      hint: 'Refresh them (`aws sso login` or new access keys), or set AWS_PROFILE to another profile.',
      cause: error,
    });
  }
  if (/Region is missing/i.test(error.message)) {
    return new CliError('No AWS region is set.', {
      hint: 'Pass --region <region>, set AWS_REGION, or set a region in your AWS profile.',
      cause: error,
    });
  }
  if (name === 'ValidationError' && /does not exist/i.test(error.message)) {
    return new StackNotFoundError(
      `Stack ${target.stackName} is not deployed ${where}.`,
      stackMissingHint(target),
    );
  }
  if (name === 'AccessDeniedException' || name === 'AccessDenied') {
    return new CliError(`AWS denied the call: ${error.message}`, {
      hint: 'Use a profile whose role may operate stepdeploy (see docs/cli.md, "Permissions").',
      cause: error,
    });
  }
  if (
    name === 'UnknownEndpoint' ||
    (error as { code?: string }).code === 'ENOTFOUND' ||
    /getaddrinfo/i.test(error.message)
  ) {
    return new CliError(`Cannot reach AWS ${where}: ${error.message}`, {
      hint: 'Check the region name (--region) and your network connection.',
      cause: error,
    });
  }
  return new CliError(`${name}: ${error.message}`, { cause: error });
}

/** The hint for a stack that is missing: deploy it, or point at the right stack and region. */
export function stackMissingHint(target: Target): string {
  return `Run \`npx cdk deploy --all\` to deploy it, or pass --stack <name> / --region <region> if it lives elsewhere${target.region ? ` (looked in ${target.region})` : ''}.`;
}
