import { describe, expect, it } from 'vitest';
import type { ServiceEvent } from '#local/scheduler.ts';
import { parseServerUps, rolloutFloors, rolloutPhases } from '../../../bench/lib/rollout-phases.ts';

const T0 = Date.parse('2026-11-21T23:46:00.000Z');

describe('parseServerUps', () => {
  it("reads each server's UP from HAProxy's check ring and skips the check and runtime API lines", () => {
    // Prepare: lines as `show events checks` prints them, from adding t1 through its rise checks
    const text = [
      '2026-11-21T23:46:06.822682+00:00 Server app/t1 is UP/DRAIN (leaving forced maintenance).',
      '2026-11-21T23:46:06.822696+00:00 Server app/t1 remains in forced drain mode.',
      '2026-11-21T23:46:06.822710+00:00 Server app/t1 is DOWN, changed from CLI. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
      '2026-11-21T23:46:06.822719+00:00 Server app/t1 is DOWN (leaving forced drain).',
      '2026-11-21T23:46:07.1+00:00 Server app/t0 is UP (leaving forced drain).',
      '2026-11-21T23:46:11.040312+00:00 Health check for server app/t1 succeeded, reason: Layer7 check passed, code: 200, check duration: 2ms, status: 1/2 DOWN.',
      '2026-11-21T23:46:16.040312+00:00 Health check for server app/t1 succeeded, reason: Layer7 check passed, code: 200, check duration: 2ms, status: 2/2 UP.',
      '2026-11-21T23:46:16.040362+00:00 Server app/t1 is UP. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.',
      '2026-11-21T23:46:18.5+00:00 Server app/t2 is UP. 2 active and 0 backup servers online.',
    ].join('\n');
    // Act
    const ups = parseServerUps(text);
    // Assess
    expect(ups).toEqual([
      { at: Date.parse('2026-11-21T23:46:16.040Z'), server: 't1' },
      { at: Date.parse('2026-11-21T23:46:18.500Z'), server: 't2' },
    ]);
  });
});

describe('rolloutFloors', () => {
  it('serving: ready + rise × interval; gone: plus the deregistration delay', () => {
    // Act
    const floors = rolloutFloors({
      containerReadyMs: 2000,
      healthyThreshold: 2,
      intervalMs: 5000,
      deregistrationDelayMs: 10_000,
    });
    // Assess
    expect(floors).toEqual({ serving: 12_000, gone: 22_000 });
  });
});

describe('rolloutPhases', () => {
  const events: ServiceEvent[] = [
    { type: 'deployment-created', at: T0, deploymentId: 'd1', taskDefinition: 'td:8' },
    { type: 'task-started', at: T0 + 1000, deploymentId: 'd1', task: 'new-a', port: 1 },
    { type: 'task-started', at: T0 + 1200, deploymentId: 'd1', task: 'new-b', port: 2 },
    { type: 'tasks-healthy', at: T0 + 12_500, deploymentId: 'd1' },
    { type: 'drain-started', at: T0 + 12_600, deploymentId: 'd1', tasks: ['old-a', 'old-b'] },
    { type: 'drain-finished', at: T0 + 15_000, deploymentId: 'd1', tasks: ['old-a', 'old-b'] },
  ];
  const healthy = { deploy: { health: { status: 'HEALTHY' } } };
  const inProgress = { deploy: { health: { status: 'IN_PROGRESS' } } };
  const execution = [
    { type: 'StateEntered', timestamp: T0 + 2500, state: { name: 'CheckHealth' } },
    {
      type: 'StateExited',
      timestamp: T0 + 2700,
      state: { name: 'CheckHealth', output: inProgress },
    },
    { type: 'StateEntered', timestamp: T0 + 17_000, state: { name: 'CheckHealth' } },
    {
      type: 'StateExited',
      timestamp: T0 + 17_300,
      state: { name: 'CheckHealth', output: healthy },
    },
  ];

  it.each([
    {
      name: 'both new tasks UP: first and last, then the drain and the gate',
      ups: [
        { at: T0 + 9000, server: 'new-a' },
        { at: T0 + 11_000, server: 'new-b' },
        { at: T0 + 11_500, server: 'new-a' },
      ],
      want: { firstNewServingMs: 9000, allNewServingMs: 11_000, oldGoneMs: 15_000 },
    },
    {
      name: 'an old server coming back UP is not a new task serving',
      ups: [
        { at: T0 + 500, server: 'old-a' },
        { at: T0 + 9000, server: 'new-b' },
      ],
      want: { firstNewServingMs: 9000, allNewServingMs: undefined, oldGoneMs: 15_000 },
    },
  ])('$name', ({ ups, want }) => {
    // Act
    const phases = rolloutPhases({
      serviceEvents: events,
      ups,
      events: execution,
      desiredCount: 2,
    });
    // Assess
    expect(phases?.firstNewServingMs).toBe(want.firstNewServingMs);
    expect(phases?.allNewServingMs).toBe(want.allNewServingMs);
    expect(phases?.oldGoneMs).toBe(want.oldGoneMs);
    expect(phases?.gatePassedMs).toBe(17_300);
    expect(phases?.healthPolls).toBe(2);
  });

  it('is undefined without a deployment', () => {
    // Act / Assess
    expect(
      rolloutPhases({ serviceEvents: [], ups: [], events: [], desiredCount: 2 }),
    ).toBeUndefined();
  });
});
