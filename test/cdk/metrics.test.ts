import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CfnTemplate } from '#local/template.ts';
import { buildApp } from '#testkit/synthesized.ts';
import {
  emittedMetrics,
  metricKey,
  unpublishedMetrics,
  watchedMetrics,
} from './published-metrics.ts';

let templates: Record<string, CfnTemplate>;
let stack: string;
beforeAll(() => {
  // Prepare: both stacks of the app as deployed.
  const { application, pipeline } = buildApp();
  stack = pipeline.stackName;
  templates = {
    [application.stackName]: Template.fromStack(application).toJSON() as CfnTemplate,
    [stack]: Template.fromStack(pipeline).toJSON() as CfnTemplate,
  };
}, 120_000);

describe('alarms and dashboard ↔ the metrics the steps emit (pipeline stack)', () => {
  it('watches only metrics RecordRelease or PublishMetrics emits, or AWS services publish', () => {
    // Act
    const unpublished = unpublishedMetrics(templates, stack);
    // Assess
    expect(unpublished).toEqual([]);
  });

  it('watches the release outcomes and the restore time, as their emitters name them', () => {
    // Act
    const watched = new Set(watchedMetrics(templates, stack).map(metricKey));
    const emitted = emittedMetrics(templates, stack);
    // Assess
    const byName = (name: string) => emitted.filter((m) => m.name === name).map(metricKey);
    expect(byName('FailureDirty')).toHaveLength(1);
    expect(byName('RestoreDurationSeconds')).toHaveLength(1);
    for (const key of [...byName('FailureDirty'), ...byName('RestoreDurationSeconds')]) {
      expect(watched.has(key)).toBe(true);
    }
  });
});
