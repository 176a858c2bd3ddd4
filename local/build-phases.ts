/**
 * The phases of an image build, read from its log as it streams: each Packer step
 * (`==> docker.<stage>: …`) and each Ansible task (`TASK [role : name]`) of a stage, so a
 * build of several minutes shows what it is doing and how long each part took, as a release
 * shows its steps.
 */

/** One phase: the Packer build it belongs to (`base`, `app`) and what it does. */
export interface BuildPhase {
  readonly stage: string;
  readonly name: string;
  readonly kind: 'packer' | 'ansible';
}

/** A phase began, or ended (when the next one began or its stage finished). */
export type BuildPhaseEvent =
  | { readonly type: 'started'; readonly phase: BuildPhase; readonly at: number }
  | {
      readonly type: 'finished';
      readonly phase: BuildPhase;
      readonly at: number;
      readonly durationMs: number;
    };

const PACKER_STEP = /^==> [a-z0-9_-]+\.([A-Za-z0-9_-]+): (\S.*)$/;
const ANSIBLE_TASK = /^\s+[a-z0-9_-]+\.([A-Za-z0-9_-]+): TASK \[(?:[^\]:]+ : )?([^\]]+)\]/;
const POST_PROCESSOR = /^Running post-processor:\s+\(type ([^)]+)\)/;
const STAGE_FINISHED = /^Build '[a-z0-9_-]+\.([A-Za-z0-9_-]+)' (?:finished|errored)/;
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
 * ends (`{ finished: stage }`), or undefined for every other line. Pure.
 */
export function phaseOfLine(line: string): BuildPhase | { readonly finished: string } | undefined {
  const task = ANSIBLE_TASK.exec(line);
  if (task?.[1] && task[2]) return { stage: task[1], name: task[2].trim(), kind: 'ansible' };
  const step = PACKER_STEP.exec(line);
  if (step?.[1] && step[2]) return { stage: step[1], name: stepName(step[2]), kind: 'packer' };
  for (const [pattern, phase] of OWN_STEPS) if (pattern.test(line)) return phase;
  const finished = STAGE_FINISHED.exec(line);
  if (finished?.[1]) return { finished: finished[1] };
  return undefined;
}

/**
 * Turns a build's log lines into phase events: a phase ends when the next one of its stage
 * begins, when its stage finishes, or at `end()` (the build returned or failed).
 */
export class BuildPhaseTracker {
  private current: { phase: BuildPhase; at: number } | undefined;

  constructor(
    private readonly onPhase: (event: BuildPhaseEvent) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Reads one log line. */
  feed(line: string): void {
    const seen = phaseOfLine(line);
    if (!seen) return;
    if ('finished' in seen) {
      if (this.current?.phase.stage === seen.finished) this.end();
      return;
    }
    this.end();
    const at = this.now();
    this.current = { phase: seen, at };
    this.onPhase({ type: 'started', phase: seen, at });
  }

  /** Ends the running phase, if any. */
  end(): void {
    if (!this.current) return;
    const at = this.now();
    const { phase } = this.current;
    this.onPhase({ type: 'finished', phase, at, durationMs: at - this.current.at });
    this.current = undefined;
  }
}
