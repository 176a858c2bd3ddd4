import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  PutSecretValueCommand,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from './context.ts';

vi.hoisted(() => {
  // Logged at INFO so the test sees every line the function would write to CloudWatch.
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  process.env.AWS_REGION = 'eu-west-1';
});
const { handler } = await import('#functions/generate-salts/handler.ts');

const SECRET =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:stepdeploy/wordpress-salts-AbCdEf';
const secrets = mockClient(SecretsManagerClient);

// A loopback server stands in for CloudFormation's presigned response URL.
let server: Server | undefined;
const bodies: string[] = [];
async function responseUrl(): Promise<string> {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/response?X-Amz-Signature=c0ffee`;
}
beforeEach(() => {
  secrets.reset();
  bodies.length = 0;
});
afterEach(async () => {
  vi.restoreAllMocks();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/** Invokes the handler with a Create request, returning what it logged. */
async function create(url: string): Promise<string[]> {
  const lines: string[] = [];
  // Powertools writes INFO to stdout and ERROR to stderr.
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
  }
  await handler(
    {
      RequestType: 'Create',
      ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:salts',
      ResponseURL: url,
      StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/app/1',
      RequestId: 'req-1',
      LogicalResourceId: 'SaltsGenerator21DA1A5D',
      ResourceType: 'Custom::WordPressSalts',
      ResourceProperties: { ServiceToken: 'x', SecretId: SECRET },
    },
    lambdaContext('SaltsGenerator'),
  );
  vi.restoreAllMocks();
  return lines.flatMap((line) => line.split('\n')).filter((line) => line.trim() !== '');
}

describe('GenerateSalts handler', () => {
  it('logs that salts were generated, never a salt or the presigned URL', async () => {
    // Prepare
    secrets.on(PutSecretValueCommand).resolves({ ARN: SECRET, VersionId: 'v1' });
    const url = await responseUrl();
    // Act
    const logs = await create(url);
    // Assess
    const salts = Object.values(
      JSON.parse(secrets.commandCalls(PutSecretValueCommand)[0]?.args[0].input.SecretString ?? ''),
    ) as string[];
    expect(salts).toHaveLength(8);
    expect(logs.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({
        level: 'INFO',
        message: 'salts custom resource answered',
        requestType: 'Create',
        generated: true,
      }),
    ]);
    const written = [...logs, ...bodies].join('\n');
    for (const salt of salts) expect(written).not.toContain(salt);
    expect(logs.join('\n')).not.toContain('X-Amz-Signature');
    expect(JSON.parse(bodies[0] ?? '')).toMatchObject({ Status: 'SUCCESS', Data: {} });
  });

  it('logs the failure reason at ERROR and answers FAILED', async () => {
    // Prepare
    secrets.on(PutSecretValueCommand).rejects(
      // Not modeled by the client: the SDK raises it as the service's base exception.
      new SecretsManagerServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        message: 'not authorized to perform: secretsmanager:PutSecretValue',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const url = await responseUrl();
    // Act
    const logs = await create(url);
    // Assess
    const reason =
      'AccessDeniedException: not authorized to perform: secretsmanager:PutSecretValue';
    expect(logs.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ level: 'ERROR', requestType: 'Create', reason }),
    ]);
    expect(JSON.parse(bodies[0] ?? '')).toMatchObject({ Status: 'FAILED', Reason: reason });
  });
});
