import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { LockHeldError } from '#commons/errors.ts';
import { defineStep } from '#commons/step.ts';
import { lambdaContext } from '../handlers/context.ts';

// The logger and metrics as a deployed step has them (stepdeploy's service and namespace
// come from the StepFunction construct's environment): the wiring, not the step, is tested.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  process.env.POWERTOOLS_SERVICE_NAME = 'stepdeploy';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'Stepdeploy/Release';
});
const { lambdaHandler } = await import('#commons/lambda-handler.ts');
const { logger, metrics } = await import('#commons/powertools.ts');

const schema = z.object({ service: z.string().min(1) });
/** A step that logs and counts, then answers or throws the named error the ASL catches. */
const step = defineStep(schema, async (event) => {
  logger.info('lock taken', { lockedService: event.service });
  metrics.addMetric('LockTaken', MetricUnit.Count, 1);
  if (event.service === 'held') throw new LockHeldError('held is held by r-1');
  return { holder: 'r-7' };
});

/** What the invocation printed on stdout, one JSON document a line (logs and EMF). */
async function stdoutDuring(act: () => Promise<unknown>) {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  const outcome = await act().then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  vi.restoreAllMocks();
  const docs = lines
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { outcome, docs };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('lambdaHandler: the logger and metrics middlewares around a step', () => {
  it.each([
    ['a step that answers', 'wordpress', { value: { holder: 'r-7' } }],
    [
      "a step that throws its named error (the ASL's ErrorEquals)",
      'held',
      { error: 'LockHeldError' },
    ],
  ])(
    '%s: logs carry the Lambda context and its metrics are flushed as EMF',
    async (_case, service, expected) => {
      // Prepare
      const handler = lambdaHandler(step);

      // Act
      const { outcome, docs } = await stdoutDuring(() =>
        handler({ service }, lambdaContext('sd-AcquireLock')),
      );

      // Assess: the outcome passes through both middlewares unchanged.
      if ('value' in expected) expect(outcome).toEqual(expected);
      else expect((outcome as { error: Error }).error.name).toBe(expected.error);
      const log = docs.find((d) => d.message === 'lock taken');
      expect(log).toMatchObject({
        level: 'INFO',
        lockedService: service,
        service: 'stepdeploy',
        function_name: 'sd-AcquireLock',
        function_arn: 'arn:aws:lambda:us-east-1:123456789012:function:sd-AcquireLock',
        function_request_id: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
        cold_start: expect.any(Boolean),
      });
      const emf = docs.filter((d) => '_aws' in d);
      expect(emf).toHaveLength(1);
      expect(emf[0]).toMatchObject({
        _aws: {
          CloudWatchMetrics: [
            {
              Namespace: 'Stepdeploy/Release',
              Dimensions: [['service']],
              Metrics: [{ Name: 'LockTaken', Unit: 'Count' }],
            },
          ],
        },
        service: 'stepdeploy',
        LockTaken: 1,
      });
    },
  );
});
