import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type BuildPhaseEvent,
  BuildPhaseTracker,
  dockerPhaseOfLine,
  phaseOfLine,
  runAsPhase,
} from '#local/build-phases.ts';

// The log of a real bootstrap build (`stepdeploy local up --verbose`, base and app stages),
// as packer/ansible wrote it, less the CLI's "  | " prefix.
const CAPTURED = readFileSync(
  new URL('./fixtures/packer-bootstrap-build.txt', import.meta.url),
  'utf8',
).split('\n');

// A `docker build` of a four-step Dockerfile by Docker 20.10's classic builder, as it wrote
// it (stdout and stderr).
const DOCKER_CLASSIC =
  `DEPRECATED: The legacy builder is deprecated and will be removed in a future release.
            Install the buildx component to build images with BuildKit:
            https://docs.docker.com/go/buildx/

Sending build context to Docker daemon  4.096kB
Step 1/4 : FROM stepdeploy/base:trixie
 ---> 59c68f0057d8
Step 2/4 : RUN echo building  && sleep 1
 ---> Running in 0c4798b7724f
building
Removing intermediate container 0c4798b7724f
 ---> 96785b2a992c
Step 3/4 : COPY x /x
 ---> 34bb8a8f55eb
Step 4/4 : ENTRYPOINT ["/bin/true"]
 ---> Running in 9a375ae5861e
Removing intermediate container 9a375ae5861e
 ---> af61280a4332
Successfully built af61280a4332
Successfully tagged sd-capture-tmp:1`.split('\n');

/** A tracker on a clock the test moves, and the events it sent. */
function trackerAt(read = phaseOfLine) {
  const clock = { now: 0 };
  const events: BuildPhaseEvent[] = [];
  const tracker = new BuildPhaseTracker(
    (event) => events.push(event),
    () => clock.now,
    read,
  );
  return { tracker, events, clock };
}

/** Feeds `lines` to a tracker whose clock moves one second per line; returns its events. */
function track(lines: readonly string[], read = phaseOfLine): BuildPhaseEvent[] {
  const { tracker, events, clock } = trackerAt(read);
  for (const line of lines) {
    clock.now += 1000;
    tracker.feed(line);
  }
  tracker.end();
  return events;
}

/** An event as [type, stage, name, duration or start time, failed]: short enough for a table. */
const brief = (e: BuildPhaseEvent) =>
  e.type === 'started'
    ? [e.type, e.phase.stage, e.phase.name, e.at]
    : [e.type, e.phase.stage, e.phase.name, e.durationMs, e.failed];

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
      expected: { finished: 'base', failed: false },
    },
    {
      line: "Build 'docker.app' errored after 3 minutes 2 seconds: Error executing Ansible: Non-zero exit status: exit status 2",
      expected: { finished: 'app', failed: true },
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
    // Act: the clock moves one second per line read.
    const events = track(CAPTURED);

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
    const { tracker, events, clock } = trackerAt();

    // Act
    tracker.feed('==> docker.base: Running post-processor:  (type docker-tag)');
    clock.now = 3000;
    tracker.feed("Build 'docker.base' finished after 15 minutes 20 seconds.");
    clock.now = 60_000;
    tracker.feed('==> docker.app: Creating a temporary directory for sharing data...');
    clock.now = 61_500;
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

  it('ends the running phase failed at its stage\'s "errored" line and at end(true)', () => {
    // Prepare
    const { tracker, events, clock } = trackerAt();

    // Act
    tracker.feed('    docker.app: TASK [wordpress : Install PHP settings] *****************');
    clock.now = 4000;
    tracker.feed("Build 'docker.app' errored after 4 seconds: Error executing Ansible");
    tracker.feed('==> docker.base: Starting docker container...');
    clock.now = 9000;
    tracker.end(true);

    // Assess
    expect(events.map(brief)).toEqual([
      ['started', 'app', 'Install PHP settings', 0],
      ['finished', 'app', 'Install PHP settings', 4000, true],
      ['started', 'base', 'Starting docker container', 4000],
      ['finished', 'base', 'Starting docker container', 5000, true],
    ]);
  });

  it('reads a docker build with dockerPhaseOfLine: one phase per Dockerfile step', () => {
    // Act: the clock moves one second per line read.
    const events = track(DOCKER_CLASSIC, dockerPhaseOfLine('registry'));

    // Assess: a step ends as the next begins, the last at "Successfully built".
    expect(events.map(brief)).toEqual([
      ['started', 'registry', 'step 1/4 FROM stepdeploy/base:trixie', 6000],
      ['finished', 'registry', 'step 1/4 FROM stepdeploy/base:trixie', 2000, false],
      ['started', 'registry', 'step 2/4 RUN echo building && sleep 1', 8000],
      ['finished', 'registry', 'step 2/4 RUN echo building && sleep 1', 5000, false],
      ['started', 'registry', 'step 3/4 COPY x /x', 13_000],
      ['finished', 'registry', 'step 3/4 COPY x /x', 2000, false],
      ['started', 'registry', 'step 4/4 ENTRYPOINT ["/bin/true"]', 15_000],
      ['finished', 'registry', 'step 4/4 ENTRYPOINT ["/bin/true"]', 4000, false],
    ]);
  });

  it('names a BuildKit step once, though its number opens each of its output lines', () => {
    // Prepare: BuildKit's plain progress, as `DOCKER_BUILDKIT=1 docker build` writes it.
    const lines = [
      '#1 [internal] load build definition from Dockerfile',
      '#1 DONE 0.0s',
      '#4 [1/3] FROM docker.io/stepdeploy/base:trixie',
      '#4 DONE 0.1s',
      '#5 [2/3] RUN apt-get update  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mariadb-server mariadb-client',
      '#5 0.412 Get:1 http://deb.debian.org/debian trixie InRelease [140 kB]',
      '#6 [internal] load build context',
      '#5 [2/3] RUN apt-get update  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mariadb-server mariadb-client',
      '#5 DONE 41.5s',
      '#7 [3/3] COPY entrypoint.sh /usr/local/bin/stepdeploy-mariadb',
      '#7 DONE 0.0s',
      '#8 exporting to image',
      '#8 writing image sha256:72ec2279715fa229b71308ac6cc8e28fba8e896751a8d1bfebf55d23d06fd5c5 done',
      '#8 DONE 0.3s',
    ];

    // Act
    const events = track(lines, dockerPhaseOfLine('mariadb'));

    // Assess: names are cut at 72 characters.
    const run = 'step 2/3 RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get i…';
    expect(run).toHaveLength(72);
    expect(events.map(brief)).toEqual([
      ['started', 'mariadb', 'step 1/3 FROM docker.io/stepdeploy/base:trixie', 3000],
      ['finished', 'mariadb', 'step 1/3 FROM docker.io/stepdeploy/base:trixie', 2000, false],
      ['started', 'mariadb', run, 5000],
      ['finished', 'mariadb', run, 5000, false],
      [
        'started',
        'mariadb',
        'step 3/3 COPY entrypoint.sh /usr/local/bin/stepdeploy-mariadb',
        10_000,
      ],
      [
        'finished',
        'mariadb',
        'step 3/3 COPY entrypoint.sh /usr/local/bin/stepdeploy-mariadb',
        3000,
        false,
      ],
    ]);
  });
});

describe('runAsPhase', () => {
  it.each([
    [
      'a script that returns: one phase, ended well',
      async (): Promise<string> => 'made',
      'made',
      false,
    ],
    [
      'a script that throws: the phase ends failed and the error passes through',
      async (): Promise<string> => {
        throw new Error('debootstrap failed');
      },
      'debootstrap failed',
      true,
    ],
  ] as const)('%s', async (_case, work, expected, failed) => {
    // Prepare
    let clock = 100;
    const events: BuildPhaseEvent[] = [];
    const phase = { stage: 'debian', name: 'make stepdeploy/base:trixie', kind: 'script' } as const;

    // Act
    const result = await runAsPhase(
      (event) => events.push(event),
      phase,
      async () => {
        clock = 2600;
        return work();
      },
      () => clock,
    ).catch((error: unknown) => (error as Error).message);

    // Assess
    expect(result).toBe(expected);
    expect(events).toEqual([
      { type: 'started', phase, at: 100 },
      { type: 'finished', phase, at: 2600, durationMs: 2500, failed },
    ]);
  });
});
