/**
 * The phases of an image build, read from its log as it streams: each Packer step
 * (`==> docker.<stage>: …`) and each Ansible task (`TASK [role : name]`) of a stage, and each
 * step of a `docker build` (`Step 2/4 : RUN …`, or BuildKit's `#5 [2/4] RUN …`), so a build of
 * several minutes shows what it is doing and how long each part took, as a release shows its
 * steps.
 */

/**
 * One phase: the build it belongs to (a Packer stage, `base` or `app`; the image a
 * Dockerfile makes, `registry`) and what it does.
 */
export interface BuildPhase {
  readonly stage: string;
  readonly name: string;
  readonly kind: 'packer' | 'ansible' | 'docker' | 'script';
}

/**
 * A phase began, or ended: when the next one began, its stage finished, or the build
 * returned (`failed` when its stage errored or the build threw while it ran).
 */
export type BuildPhaseEvent =
  | { readonly type: 'started'; readonly phase: BuildPhase; readonly at: number }
  | {
      readonly type: 'finished';
      readonly phase: BuildPhase;
      readonly at: number;
      readonly durationMs: number;
      readonly failed: boolean;
    };

/** What one log line says: the phase it begins, the stage it ends, or nothing. */
export type PhaseOfLine = (
  line: string,
) => BuildPhase | { readonly finished: string; readonly failed: boolean } | undefined;

const PACKER_STEP = /^==> [a-z0-9_-]+\.([A-Za-z0-9_-]+): (\S.*)$/;
const ANSIBLE_TASK = /^\s+[a-z0-9_-]+\.([A-Za-z0-9_-]+): TASK \[(?:[^\]:]+ : )?([^\]]+)\]/;
const POST_PROCESSOR = /^Running post-processor:\s+\(type ([^)]+)\)/;
const STAGE_FINISHED = /^Build '[a-z0-9_-]+\.([A-Za-z0-9_-]+)' (finished|errored)/;
/** What local/packer.ts says of the stages it does not run Packer for. */
const OWN_STEPS: readonly [RegExp, BuildPhase][] = [
  [
    /^image-build: reusing base stage /,
    { stage: 'base', name: 'reuse the base stage', kind: 'packer' },
  ],
  [
    /^image-build: app stage \S+ is unchanged/,
    { stage: 'app', name: 'tag and push the unchanged app stage', kind: 'packer' },
  ],
];

/** A Packer step's message without its arguments: "Killing the container: 5fb0…" → "Killing the container". */
function stepName(message: string): string {
  const post = POST_PROCESSOR.exec(message);
  if (post) return `post-processor ${post[1]}`;
  return message
    .replace(/:\s.*$/, '')
    .replace(/\.{3}$/, '')
    .trim();
}

/**
 * What a log line of `packer build` says about the phases: the phase it begins, the stage it
 * ends (`{ finished: stage, failed }`), or undefined for every other line. Pure.
 */
export const phaseOfLine: PhaseOfLine = (line) => {
  const task = ANSIBLE_TASK.exec(line);
  if (task?.[1] && task[2]) return { stage: task[1], name: task[2].trim(), kind: 'ansible' };
  const step = PACKER_STEP.exec(line);
  if (step?.[1] && step[2]) return { stage: step[1], name: stepName(step[2]), kind: 'packer' };
  for (const [pattern, phase] of OWN_STEPS) if (pattern.test(line)) return phase;
  const finished = STAGE_FINISHED.exec(line);
  if (finished?.[1]) return { finished: finished[1], failed: finished[2] === 'errored' };
  return undefined;
};

// The classic builder's `Step 2/4 : RUN …`; BuildKit's plain progress `#5 [2/4] RUN …` (or
// `#5 [stage 2/4] …`), whose `[internal]` bookkeeping steps have no step number.
const DOCKER_STEP = /^Step (\d+\/\d+) : (.+)$/;
const BUILDKIT_STEP = /^#\d+ \[(?:\S+ )?(\d+\/\d+)\] (.+)$/;
const DOCKER_BUILT = /^(?:Successfully built |#\d+ writing image )/;
const PHASE_NAME_MAX = 72;

/**
 * The reader of a `docker build` log for the image `stage` names: each Dockerfile step
 * begins a phase named by its number and instruction, the image written ends the stage.
 * A BuildKit step is named once, though its number opens each of its output lines. Pure.
 */
export function dockerPhaseOfLine(stage: string): PhaseOfLine {
  return (line) => {
    const step = DOCKER_STEP.exec(line) ?? BUILDKIT_STEP.exec(line);
    if (step?.[1] && step[2]) {
      const instruction = step[2].replace(/\s+/g, ' ').trim();
      const name = `step ${step[1]} ${instruction}`;
      return {
        stage,
        name: name.length <= PHASE_NAME_MAX ? name : `${name.slice(0, PHASE_NAME_MAX - 1)}…`,
        kind: 'docker',
      };
    }
    if (DOCKER_BUILT.test(line)) return { finished: stage, failed: false };
    return undefined;
  };
}

/**
 * Turns a build's log lines into phase events: a phase ends when the next one of its stage
 * begins, when its stage finishes, or at `end()` (the build returned or failed). A phase that
 * begins the same as the running one (a BuildKit step's later lines) continues it.
 */
export class BuildPhaseTracker {
  private current: { phase: BuildPhase; at: number } | undefined;

  constructor(
    private readonly onPhase: (event: BuildPhaseEvent) => void,
    private readonly now: () => number = Date.now,
    private readonly read: PhaseOfLine = phaseOfLine,
  ) {}

  /** Reads one log line. */
  feed(line: string): void {
    const seen = this.read(line);
    if (!seen) return;
    if ('finished' in seen) {
      if (this.current?.phase.stage === seen.finished) this.end(seen.failed);
      return;
    }
    if (this.current && samePhase(this.current.phase, seen)) return;
    this.end();
    this.begin(seen);
  }

  /** Begins a phase no log line names (a script run around the build), ending the running one. */
  begin(phase: BuildPhase): void {
    this.end();
    const at = this.now();
    this.current = { phase, at };
    this.onPhase({ type: 'started', phase, at });
  }

  /** Ends the running phase, if any: `failed` when the build failed while it ran. */
  end(failed = false): void {
    if (!this.current) return;
    const at = this.now();
    const { phase } = this.current;
    this.onPhase({ type: 'finished', phase, at, durationMs: at - this.current.at, failed });
    this.current = undefined;
  }

  /** Runs `build` with the phases its log names, ending the last as it returns or throws. */
  async around<T>(build: (feed: (line: string) => void) => Promise<T>): Promise<T> {
    try {
      const result = await build((line) => this.feed(line));
      this.end();
      return result;
    } catch (error) {
      this.end(true);
      throw error;
    }
  }
}

/** Runs `work` as one phase that no log line names (a script run around the build). */
export function runAsPhase<T>(
  onPhase: (event: BuildPhaseEvent) => void,
  phase: BuildPhase,
  work: () => Promise<T>,
  now: () => number = Date.now,
): Promise<T> {
  const tracker = new BuildPhaseTracker(onPhase, now, () => undefined);
  return tracker.around(() => {
    tracker.begin(phase);
    return work();
  });
}

function samePhase(a: BuildPhase, b: BuildPhase): boolean {
  return a.stage === b.stage && a.name === b.name && a.kind === b.kind;
}
