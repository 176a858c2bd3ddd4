import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  failureReason,
  generateSalts,
  generateSaltsResource,
  needsFreshSalts,
  ResponseDeliveryError,
  responseBody,
  SALT_KEYS,
  sendResponse,
} from '#functions/generate-salts/generate-salts.ts';
import type {
  CustomResourceResponse,
  GenerateSaltsEvent,
} from '#functions/generate-salts/schema.ts';

const SECRET =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:stepdeploy/wordpress-salts-AbCdEf';
const OTHER_SECRET =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:stepdeploy/wordpress-salts-GhIjKl';
const STACK_ID =
  'arn:aws:cloudformation:eu-west-1:123456789012:stack/stepdeploy-application/271845b0-f2e8-11ed-90ac-0eeb25b8ae21';
const SERVICE_TOKEN =
  'arn:aws:lambda:eu-west-1:123456789012:function:stepdeploy-application-SaltsGeneratorFunctionFFA2';

/** A request as CloudFormation sends it, addressed to `responseUrl`. */
function request(
  requestType: 'Create' | 'Update' | 'Delete',
  responseUrl: string,
  options: { secretId?: string; oldSecretId?: string } = {},
): Record<string, unknown> {
  const properties = { ServiceToken: SERVICE_TOKEN, SecretId: options.secretId ?? SECRET };
  return {
    RequestType: requestType,
    ServiceToken: SERVICE_TOKEN,
    ResponseURL: responseUrl,
    StackId: STACK_ID,
    RequestId: '8f2a6d44-5b1c-4c9e-9d55-0f4c2c1b7e10',
    LogicalResourceId: 'SaltsGenerator21DA1A5D',
    ResourceType: 'Custom::WordPressSalts',
    ResourceProperties: properties,
    ...(requestType === 'Create' ? {} : { PhysicalResourceId: SECRET }),
    ...(requestType === 'Update'
      ? { OldResourceProperties: { ...properties, SecretId: options.oldSecretId ?? SECRET } }
      : {}),
  };
}

interface Received {
  readonly method?: string;
  readonly url?: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

// A loopback server stands in for the presigned S3 URL CloudFormation listens on.
let server: Server | undefined;
async function responseUrl(status = 200): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/cfn-response/abc?X-Amz-Signature=f00`, received };
}
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

const secrets = mockClient(SecretsManagerClient);
beforeEach(() => secrets.reset());

describe('needsFreshSalts', () => {
  it.each([
    ['Create', undefined, true],
    ['Update', SECRET, false],
    ['Update', OTHER_SECRET, true],
    ['Delete', undefined, false],
  ] as const)('%s (old secret %s) → %s', (requestType, oldSecretId, expected) => {
    // Prepare
    const event = request(requestType, 'https://example.invalid/', {
      oldSecretId,
    }) as GenerateSaltsEvent;
    // Act
    const fresh = needsFreshSalts(event);
    // Assess
    expect(fresh).toBe(expected);
  });
});

describe('generateSalts', () => {
  it('makes the eight WordPress salts of 48 random bytes each, all different', () => {
    // Prepare + Act
    const salts = generateSalts();
    // Assess
    expect(Object.keys(salts)).toEqual([...SALT_KEYS]);
    for (const value of Object.values(salts)) {
      expect(Buffer.from(value, 'base64')).toHaveLength(48);
      expect(value).toMatch(/^[A-Za-z0-9+/]{64}$/);
    }
    expect(new Set(Object.values(salts)).size).toBe(8);
  });

  it('draws every salt from the random source', () => {
    // Prepare
    const sizes: number[] = [];
    const random = (size: number) => {
      sizes.push(size);
      return Buffer.alloc(size, sizes.length);
    };
    // Act
    const salts = generateSalts(random);
    // Assess
    expect(sizes).toEqual(Array(8).fill(48));
    expect(salts.AUTH_KEY).toBe(Buffer.alloc(48, 1).toString('base64'));
    expect(salts.NONCE_SALT).toBe(Buffer.alloc(48, 8).toString('base64'));
  });
});

describe('failureReason', () => {
  it.each([
    [
      new ResourceNotFoundException({ message: 'no such secret', $metadata: {} }),
      'ResourceNotFoundException: no such secret',
    ],
    [new TypeError('bad'), 'TypeError: bad'],
    ['plain string', 'Error: plain string'],
    [new Error('x'.repeat(600)), `Error: ${'x'.repeat(493)}`],
  ])('%s → %s', (error, expected) => {
    // Prepare + Act
    const reason = failureReason(error);
    // Assess
    expect(reason).toBe(expected);
  });
});

describe('responseBody', () => {
  it('echoes the request identity and keeps Data empty', () => {
    // Prepare
    const event = request('Create', 'https://example.invalid/');
    // Act
    const body = responseBody(event, { status: 'SUCCESS', reason: 'salts generated' });
    // Assess
    expect(body).toEqual({
      Status: 'SUCCESS',
      Reason: 'salts generated',
      PhysicalResourceId: SECRET,
      StackId: STACK_ID,
      RequestId: '8f2a6d44-5b1c-4c9e-9d55-0f4c2c1b7e10',
      LogicalResourceId: 'SaltsGenerator21DA1A5D',
      Data: {},
    });
  });

  it('keeps the physical id CloudFormation holds when an update names another secret', () => {
    // Prepare
    const event = { ...request('Update', 'https://example.invalid/'), PhysicalResourceId: 'first' };
    // Act
    const body = responseBody(event, { status: 'SUCCESS', reason: 'salts generated' });
    // Assess
    expect(body.PhysicalResourceId).toBe('first');
  });

  it('still names a physical id for a request with no properties', () => {
    // Prepare + Act
    const body = responseBody({}, { status: 'FAILED', reason: 'r'.repeat(700) });
    // Assess
    expect(body.PhysicalResourceId).toBe('wordpress-salts');
    expect(body.Reason).toHaveLength(500);
  });
});

describe('sendResponse', () => {
  it('PUTs the JSON body with the empty content type the presigned URL was signed for', async () => {
    // Prepare
    const { url, received } = await responseUrl();
    const body = responseBody(request('Create', url), { status: 'SUCCESS', reason: 'ok' });
    // Act
    const status = await sendResponse(url, body);
    // Assess
    expect(status).toBe(200);
    expect(received).toHaveLength(1);
    expect(received[0]?.method).toBe('PUT');
    expect(received[0]?.url).toBe('/cfn-response/abc?X-Amz-Signature=f00');
    expect(received[0]?.headers['content-type']).toBe('');
    expect(received[0]?.headers['content-length']).toBe(
      String(Buffer.byteLength(received[0]?.body ?? '')),
    );
    expect(JSON.parse(received[0]?.body ?? '')).toEqual(body);
  });

  it('fails with ResponseDeliveryError when the URL refuses the response', async () => {
    // Prepare
    const { url } = await responseUrl(403);
    const body = responseBody({}, { status: 'SUCCESS', reason: 'ok' });
    // Act
    const error = await sendResponse(url, body).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(ResponseDeliveryError);
    expect((error as Error).message).toBe('ResponseURL answered HTTP 403');
  });
});

describe('generateSaltsResource', () => {
  /** Runs one request against the mocked Secrets Manager and the loopback ResponseURL. */
  async function answer(make: (url: string) => Record<string, unknown>) {
    const { url, received } = await responseUrl();
    const result = await generateSaltsResource(make(url), {
      secretsManager: new SecretsManagerClient({ region: 'eu-west-1' }),
    });
    const responses = received.map((r) => JSON.parse(r.body) as CustomResourceResponse);
    return { result, responses };
  }
  const written = () =>
    secrets.commandCalls(PutSecretValueCommand).map((call) => call.args[0].input);

  it('writes eight salts on Create and answers SUCCESS without any of them', async () => {
    // Prepare
    secrets.on(PutSecretValueCommand).resolves({ ARN: SECRET, VersionId: 'v1' });
    // Act
    const { result, responses } = await answer((url) => request('Create', url));
    // Assess
    expect(written()).toHaveLength(1);
    expect(written()[0]?.SecretId).toBe(SECRET);
    const salts = JSON.parse(written()[0]?.SecretString ?? '{}') as Record<string, string>;
    expect(Object.keys(salts)).toEqual([...SALT_KEYS]);
    expect(responses).toEqual([
      expect.objectContaining({ Status: 'SUCCESS', Reason: 'salts generated', Data: {} }),
    ]);
    const answered = JSON.stringify(responses);
    for (const value of Object.values(salts)) expect(answered).not.toContain(value);
    expect(result).toMatchObject({ requestType: 'Create', generated: true });
  });

  it.each([
    ['an Update of the same secret', (url: string) => request('Update', url)],
    ['a Delete', (url: string) => request('Delete', url)],
  ])('keeps the salts on %s', async (_, make) => {
    // Prepare
    secrets.on(PutSecretValueCommand).rejects(new Error('must not be called'));
    // Act
    const { result, responses } = await answer(make);
    // Assess
    expect(written()).toEqual([]);
    expect(responses).toEqual([
      expect.objectContaining({
        Status: 'SUCCESS',
        Reason: 'salts kept',
        PhysicalResourceId: SECRET,
      }),
    ]);
    expect(result.generated).toBe(false);
  });

  it('writes fresh salts when an Update points at another secret', async () => {
    // Prepare
    secrets.on(PutSecretValueCommand).resolves({ ARN: OTHER_SECRET, VersionId: 'v1' });
    // Act
    const { responses } = await answer((url) =>
      request('Update', url, { secretId: OTHER_SECRET, oldSecretId: SECRET }),
    );
    // Assess
    expect(written().map((input) => input.SecretId)).toEqual([OTHER_SECRET]);
    expect(responses[0]?.Status).toBe('SUCCESS');
  });

  it('answers FAILED with the error name and message when the secret cannot be written', async () => {
    // Prepare
    secrets.on(PutSecretValueCommand).rejects(
      new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret.",
        $metadata: { httpStatusCode: 400 },
      }),
    );
    // Act
    const { result, responses } = await answer((url) => request('Create', url));
    // Assess
    expect(responses).toEqual([
      expect.objectContaining({
        Status: 'FAILED',
        Reason: "ResourceNotFoundException: Secrets Manager can't find the specified secret.",
        Data: {},
      }),
    ]);
    expect(result.generated).toBe(false);
  });

  it.each([
    ['Create', 'FAILED'],
    ['Delete', 'SUCCESS'],
  ])('answers a malformed %s %s, naming the missing property', async (requestType, status) => {
    // Prepare
    const { url, received } = await responseUrl();
    const event = request(requestType as 'Create' | 'Delete', url);
    event.ResourceProperties = { ServiceToken: SERVICE_TOKEN };
    // Act
    await generateSaltsResource(event, { secretsManager: new SecretsManagerClient({}) });
    // Assess
    expect(written()).toEqual([]);
    expect(JSON.parse(received[0]?.body ?? '')).toMatchObject({
      Status: status,
      Reason: expect.stringMatching(/^invalid request: ResourceProperties\.SecretId: /),
      LogicalResourceId: 'SaltsGenerator21DA1A5D',
    });
  });

  it('refuses a request it cannot answer (no ResponseURL) before any write', async () => {
    // Prepare
    const event = request('Create', 'https://example.invalid/');
    delete event.ResponseURL;
    // Act
    const error = await generateSaltsResource(event, {
      secretsManager: new SecretsManagerClient({}),
    }).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(TypeError);
    expect(written()).toEqual([]);
  });
});
