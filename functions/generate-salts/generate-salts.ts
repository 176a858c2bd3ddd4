import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { NamedError } from '#commons/errors.ts';
import {
  type CustomResourceResponse,
  type GenerateSaltsEvent,
  generateSaltsSchema,
} from './schema.ts';

/** The eight WordPress salts, as keys of the salts secret and suffixes of `WORDPRESS_*`. */
export const SALT_KEYS = [
  'AUTH_KEY',
  'SECURE_AUTH_KEY',
  'LOGGED_IN_KEY',
  'NONCE_KEY',
  'AUTH_SALT',
  'SECURE_AUTH_SALT',
  'LOGGED_IN_SALT',
  'NONCE_SALT',
] as const;

/** One of {@link SALT_KEYS}. */
export type SaltKey = (typeof SALT_KEYS)[number];

/** Random bytes per salt: 64 base64 characters, what WordPress's own generator hands out. */
export const SALT_BYTES = 48;

/** CloudFormation shows at most this much of a failure reason. */
const MAX_REASON = 500;

/**
 * Whether this request must write fresh salts: on Create, and on an Update that points the
 * resource at another secret. An Update of the same secret and every Delete keep them, because
 * new salts log every user out.
 */
export function needsFreshSalts(event: GenerateSaltsEvent): boolean {
  if (event.RequestType === 'Create') return true;
  if (event.RequestType === 'Update') {
    return event.OldResourceProperties.SecretId !== event.ResourceProperties.SecretId;
  }
  return false;
}

/** Eight independent random salts, keyed by {@link SALT_KEYS}. */
export function generateSalts(
  random: (size: number) => Buffer = randomBytes,
): Record<SaltKey, string> {
  return Object.fromEntries(
    SALT_KEYS.map((key) => [key, random(SALT_BYTES).toString('base64')]),
  ) as Record<SaltKey, string>;
}

/** Name and message of a failure, never its other fields (an SDK error echoes its input). */
export function failureReason(error: unknown): string {
  const reason =
    error instanceof Error ? `${error.name}: ${error.message}` : `Error: ${String(error)}`;
  return reason.slice(0, MAX_REASON);
}

/** What a request reports back, without the request's identity. */
export interface Outcome {
  readonly status: CustomResourceResponse['Status'];
  readonly reason: string;
}

/** The fields of a request the response echoes; a malformed request may lack some. */
export interface RequestIdentity {
  readonly StackId?: unknown;
  readonly RequestId?: unknown;
  readonly LogicalResourceId?: unknown;
  readonly PhysicalResourceId?: unknown;
  readonly ResourceProperties?: { readonly SecretId?: unknown };
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/**
 * The response body for a request. The physical id is the one CloudFormation already holds,
 * else the secret's ARN: it never changes, so CloudFormation never asks to delete a "replaced"
 * resource. `Data` stays empty, so no salt is readable through Fn::GetAtt.
 */
export function responseBody(event: RequestIdentity, outcome: Outcome): CustomResourceResponse {
  return {
    Status: outcome.status,
    Reason: outcome.reason.slice(0, MAX_REASON),
    PhysicalResourceId:
      text(event.PhysicalResourceId) ??
      text(event.ResourceProperties?.SecretId) ??
      text(event.LogicalResourceId) ??
      'wordpress-salts',
    StackId: text(event.StackId) ?? '',
    RequestId: text(event.RequestId) ?? '',
    LogicalResourceId: text(event.LogicalResourceId) ?? '',
    Data: {},
  };
}

/** Writes the salts as the secret's JSON value (a new version of the secret). */
export async function putSalts(
  client: SecretsManagerClient,
  secretId: string,
  salts: Readonly<Record<SaltKey, string>>,
): Promise<void> {
  await client.send(
    new PutSecretValueCommand({ SecretId: secretId, SecretString: JSON.stringify(salts) }),
  );
}

/** Thrown when the response could not be delivered to CloudFormation's presigned URL. */
export class ResponseDeliveryError extends NamedError {
  override readonly name = 'ResponseDeliveryError';
}

/**
 * PUTs the response to the presigned ResponseURL. The empty content type is part of what the
 * URL was signed for (the cfn-response module sends the same); CloudFormation gives an https
 * URL, and a plain http one (a loopback test server) is spoken to in plain HTTP.
 */
export function sendResponse(url: string, body: CustomResourceResponse): Promise<number> {
  const payload = JSON.stringify(body);
  const request = new URL(url).protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: 'PUT',
        headers: { 'content-type': '', 'content-length': Buffer.byteLength(payload) },
      },
      (response) => {
        response.resume();
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(status);
          else reject(new ResponseDeliveryError(`ResponseURL answered HTTP ${status}`));
        });
      },
    );
    outgoing.on('error', (error) =>
      reject(
        new ResponseDeliveryError(`ResponseURL unreachable: ${error.message}`, { cause: error }),
      ),
    );
    outgoing.end(payload);
  });
}

/** What the handler needs from outside: the Secrets Manager client and the response sender. */
export interface GenerateSaltsDeps {
  readonly secretsManager: SecretsManagerClient;
  readonly send?: typeof sendResponse;
  readonly random?: (size: number) => Buffer;
}

/** What one request did, for the log line (never a salt). */
export interface SaltsResult {
  readonly requestType: string;
  readonly generated: boolean;
  readonly response: CustomResourceResponse;
}

/**
 * Answers one custom resource request: validates it, writes fresh salts when
 * {@link needsFreshSalts}, and always answers CloudFormation (a request left unanswered hangs
 * the stack for an hour). A malformed Delete is answered SUCCESS: nothing was created that
 * could be left behind, and a failed Delete would strand the stack.
 */
export async function generateSaltsResource(
  raw: unknown,
  deps: GenerateSaltsDeps,
): Promise<SaltsResult> {
  const send = deps.send ?? sendResponse;
  const request = (raw ?? {}) as RequestIdentity & { RequestType?: unknown; ResponseURL?: unknown };
  const requestType = typeof request.RequestType === 'string' ? request.RequestType : 'unknown';
  const parsed = generateSaltsSchema.safeParse(raw);
  if (!parsed.success) {
    const url = text(request.ResponseURL);
    if (url === undefined) throw new TypeError('custom resource request without a ResponseURL');
    const issue = parsed.error.issues[0];
    const reason = `invalid request: ${issue?.path.join('.') || '(event)'}: ${issue?.message}`;
    const response = responseBody(request, {
      status: requestType === 'Delete' ? 'SUCCESS' : 'FAILED',
      reason,
    });
    await send(url, response);
    return { requestType, generated: false, response };
  }
  const event = parsed.data;
  const fresh = needsFreshSalts(event);
  let outcome: Outcome;
  try {
    if (fresh) {
      await putSalts(
        deps.secretsManager,
        event.ResourceProperties.SecretId,
        generateSalts(deps.random),
      );
    }
    outcome = { status: 'SUCCESS', reason: fresh ? 'salts generated' : 'salts kept' };
  } catch (error) {
    outcome = { status: 'FAILED', reason: failureReason(error) };
  }
  const response = responseBody(event, outcome);
  await send(event.ResponseURL, response);
  return { requestType, generated: fresh && outcome.status === 'SUCCESS', response };
}
