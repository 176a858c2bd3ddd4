import { describe, expect, it } from 'vitest';
import type { BuildPhase, BuildPhaseEvent } from '#local/build-phases.ts';
import {
  buildPhaseLine,
  failedLine,
  runningLine,
  startedLine,
  succeededLine,
} from '../../../cli/render/live.ts';

const T0 = 1_000_000;
const ANSIBLE: BuildPhase = {
  stage: 'base',
  name: 'Install Apache, PHP and WordPress from Debian',
  kind: 'ansible',
};
const DOCKER: BuildPhase = {
  stage: 'mariadb',
  name: 'step 2/4 RUN apt-get update',
  kind: 'docker',
};
const finished = (phase: BuildPhase, durationMs: number, failed = false): BuildPhaseEvent => ({
  type: 'finished',
  phase,
  at: T0 + durationMs,
  durationMs,
  failed,
});

describe('the live lines of a release and of an image build', () => {
  it.each([
    ['a step began', startedLine('DeployService', 65_000), '▶ DeployService (elapsed 1m 05s)'],
    ['a step began at once', startedLine('AcquireLock', 300), '▶ AcquireLock (elapsed 0.3s)'],
    ['a step ended well', succeededLine('CheckHealth', 42_000), '✓ CheckHealth 42s'],
    ['a step of no known duration', succeededLine('SmokeTest', undefined), '✓ SmokeTest -'],
    [
      'a step failed',
      failedLine('CheckHealth', 'HealthCheckFailed: Target.ResponseCodeMismatch'),
      '✗ CheckHealth HealthCheckFailed: Target.ResponseCodeMismatch',
    ],
    [
      'the heartbeat',
      runningLine(['CheckHealth', 'SnapshotDatabase'], 185_000),
      '  … CheckHealth, SnapshotDatabase running (elapsed 3m 05s)',
    ],
    ['no heartbeat when nothing runs', runningLine([], 185_000), undefined],
  ])('%s', (_case, line, expected) => {
    // Assess
    expect(line).toBe(expected);
  });
});

describe('buildPhaseLine', () => {
  it.each([
    [
      'a phase began, 1m 05s into the run',
      { type: 'started', phase: ANSIBLE, at: T0 + 65_000 } as const,
      '▶ image base: Install Apache, PHP and WordPress from Debian (elapsed 1m 05s)',
    ],
    [
      'a Dockerfile step began',
      { type: 'started', phase: DOCKER, at: T0 + 2_000 } as const,
      '▶ image mariadb: step 2/4 RUN apt-get update (elapsed 2s)',
    ],
    [
      'a phase of a second or more ended: its duration',
      finished(ANSIBLE, 890_000),
      '✓ image base: Install Apache, PHP and WordPress from Debian 14m 50s',
    ],
    ['a phase under a second ended: no line', finished(DOCKER, 999), undefined],
    [
      'a phase failed, however short: the failure and its time',
      finished(DOCKER, 400, true),
      '✗ image mariadb: step 2/4 RUN apt-get update failed after 0.4s',
    ],
  ] as const)('%s', (_case, event, expected) => {
    // Act
    const line = buildPhaseLine(event, T0);

    // Assess
    expect(line).toBe(expected);
  });
});
