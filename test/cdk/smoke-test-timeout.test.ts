import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { SMOKE_TIMING, smokeTestBudgetMs } from '#commons/smoke.ts';
import { smokeTestSchema } from '#functions/smoke-test/schema.ts';
import { pipelineTemplate } from '#testkit/synthesized.ts';

let template: Template;
beforeAll(() => {
  ({ template } = pipelineTemplate());
}, 120_000);

describe('SmokeTest Lambda timeout', () => {
  it('outlasts the longest smoke test the step admits, so it fails with its reason', () => {
    // Prepare: the most attempts the step's schema accepts, at the pacing the function runs with
    const maxAttempts = smokeTestSchema.shape.attempts.maxValue as number;
    const worstMs = smokeTestBudgetMs(maxAttempts, SMOKE_TIMING);
    // Act
    const [smoke] = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) =>
      id.startsWith('SmokeTest'),
    );
    // Assess
    expect(smoke).toBeDefined();
    const timeoutSeconds = smoke?.[1].Properties.Timeout as number;
    expect(timeoutSeconds * 1000).toBeGreaterThan(worstMs);
    // ...and not absurdly more: the release waits on it when the Lambda itself hangs.
    expect(timeoutSeconds * 1000).toBeLessThanOrEqual(worstMs + 60_000);
  });
});
