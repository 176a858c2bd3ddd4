import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type BuildPhaseEvent, BuildPhaseTracker, phaseOfLine } from '#local/build-phases.ts';

// The log of a real bootstrap build (`stepdeploy local up --verbose`, base and app stages),
// as packer/ansible wrote it, less the CLI's "  | " prefix.
const CAPTURED = readFileSync(
  new URL('./fixtures/packer-bootstrap-build.txt', import.meta.url),
  'utf8',
).split('\n');

describe('phaseOfLine', () => {
  const cases: readonly { line: string; expected: ReturnType<typeof phaseOfLine> }[] = [
    {
      line: '==> docker.base: Starting docker container...',
      expected: { stage: 'base', name: 'Starting docker container', kind: 'packer' },
    },
    {
      line: '==> docker.base: Killing the container: 5fb075eac4d5794610f4fb796ddd3d73da8978099ae6c30f0f4f72f29e40a366',
      expected: { stage: 'base', name: 'Killing the container', kind: 'packer' },
    },
    {
      line: '==> docker.app: Running post-processor:  (type docker-push)',
      expected: { stage: 'app', name: 'post-processor docker-push', kind: 'packer' },
    },
    {
      line: '    docker.base: TASK [wordpress : Install Apache, PHP and WordPress from Debian] ***************',
      expected: {
        stage: 'base',
        name: 'Install Apache, PHP and WordPress from Debian',
        kind: 'ansible',
      },
    },
    {
      line: '    docker.app: TASK [wordpress : Install /healthz and /readyz] ********************************',
      expected: { stage: 'app', name: 'Install /healthz and /readyz', kind: 'ansible' },
    },
    {
      line: "Build 'docker.base' finished after 15 minutes 20 seconds.",
      expected: { finished: 'base' },
    },
    {
      line: 'image-build: app stage stepdeploy/wordpress-app:0123456789abcdef is unchanged; tagging and pushing it',
      expected: { stage: 'app', name: 'tag and push the unchanged app stage', kind: 'packer' },
    },
    { line: '    docker.base: changed: [default]', expected: undefined },
    { line: '    docker.app (docker-push): 6c771d8d68b8: Pushed', expected: undefined },
    { line: '==> Wait completed after 2 minutes 32 seconds', expected: undefined },
    {
      line: '--> docker.app: Imported Docker image: sha256:72ec2279715fa229b71308ac6cc8e28fba8e896751a8d1bfebf55d23d06fd5c5',
      expected: undefined,
    },
  ];

  it.each(cases)('$line', ({ line, expected }) => {
    // Act
    const phase = phaseOfLine(line);

    // Assess
    expect(phase).toEqual(expected);
  });
});

describe('BuildPhaseTracker', () => {
  it('turns the captured build into phases that each start, end once, in order', () => {
    // Prepare: the clock moves one second per line read.
    let clock = 0;
    const events: BuildPhaseEvent[] = [];
    const tracker = new BuildPhaseTracker(
      (event) => events.push(event),
      () => clock,
    );

    // Act
    for (const line of CAPTURED) {
      clock += 1000;
      tracker.feed(line);
    }
    tracker.end();

    // Assess
    const started = events.filter((e) => e.type === 'started').map((e) => e.phase);
    const finished = events.filter((e) => e.type === 'finished').map((e) => e.phase);
    expect(finished).toEqual(started);
    expect(events.map((e) => e.type)).toEqual(
      started.flatMap(() => ['started', 'finished'] as const),
    );
    expect(started.filter((p) => p.stage === 'base').map((p) => p.name)).toEqual([
      'Creating a temporary directory for sharing data',
      'Starting docker container',
      'Using docker communicator to connect',
      'Provisioning with Ansible',
      'Executing Ansible',
      'Bootstrap Python for Ansible on the minimal base image',
      'Install Apache, PHP and WordPress from Debian',
      'Drop the downloaded packages from the image',
      'Find the apt lists',
      'Drop the apt lists from the image',
      'Committing the container',
      'Killing the container',
      'post-processor docker-tag',
    ]);
    const app = started.filter((p) => p.stage === 'app');
    expect(app.filter((p) => p.kind === 'ansible')).toHaveLength(42);
    expect(app.at(-1)?.name).toBe('post-processor manifest');
    expect(app.map((p) => p.name)).toContain('post-processor docker-push');
  });

  it('ends a stage at its "finished" line, so the time between stages is no phase', () => {
    // Prepare
    let clock = 0;
    const events: BuildPhaseEvent[] = [];
    const tracker = new BuildPhaseTracker(
      (event) => events.push(event),
      () => clock,
    );

    // Act
    tracker.feed('==> docker.base: Running post-processor:  (type docker-tag)');
    clock = 3000;
    tracker.feed("Build 'docker.base' finished after 15 minutes 20 seconds.");
    clock = 60_000;
    tracker.feed('==> docker.app: Creating a temporary directory for sharing data...');
    clock = 61_500;
    tracker.end();
    tracker.end();

    // Assess
    expect(
      events.map((e) => [e.type, e.phase.name, e.type === 'finished' ? e.durationMs : e.at]),
    ).toEqual([
      ['started', 'post-processor docker-tag', 0],
      ['finished', 'post-processor docker-tag', 3000],
      ['started', 'Creating a temporary directory for sharing data', 60_000],
      ['finished', 'Creating a temporary directory for sharing data', 1500],
    ]);
  });
});
