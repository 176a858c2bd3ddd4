/**
 * The AWS cost model of one release: list prices (us-east-1, on-demand, no free tier) and the
 * pure arithmetic that turns counted transitions, Lambda invocations and build time into USD.
 */

/** USD per state transition of a Standard workflow ($0.025 per 1,000). */
export const STEP_FUNCTIONS_PER_TRANSITION = 0.000025;
/** USD per Lambda request ($0.20 per 1M). */
export const LAMBDA_PER_REQUEST = 0.2 / 1_000_000;
/** USD per GB-second of Lambda on arm64 (first pricing tier). */
export const LAMBDA_ARM64_PER_GB_SECOND = 0.0000133334;

/** CodeBuild on-demand compute types the model knows, by `<compute type>/<arch>`. */
export const CODEBUILD_PER_MINUTE = {
  'general1.small/x86_64': 0.005,
  'general1.small/arm64': 0.0034,
  'general1.medium/x86_64': 0.01,
  'general1.large/x86_64': 0.02,
} as const;

/** A CodeBuild compute type the model has a price for. */
export type CodeBuildComputeType = keyof typeof CODEBUILD_PER_MINUTE;

/** One Lambda invocation as billed: its duration and the function's configured memory. */
export interface LambdaInvocation {
  readonly function: string;
  readonly durationMs: number;
  readonly memoryMb: number;
}

/** What one release used. */
export interface ReleaseUsage {
  readonly transitions: number;
  readonly invocations: readonly LambdaInvocation[];
  /** Seconds of the image build; 0 when the release deploys a given image. */
  readonly buildSeconds: number;
  readonly computeType: CodeBuildComputeType;
}

/** USD of one release, by service. */
export interface ReleaseCost {
  readonly stepFunctions: number;
  readonly lambdaRequests: number;
  readonly lambdaDuration: number;
  readonly lambdaGbSeconds: number;
  readonly codeBuild: number;
  readonly codeBuildBilledMinutes: number;
  readonly total: number;
}

function nonNegative(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0)
    throw new RangeError(`${name} must be a non-negative number, got ${value}`);
}

/** Lambda bills duration rounded up to the millisecond. Pure. */
export function gbSeconds(invocation: LambdaInvocation): number {
  nonNegative('durationMs', invocation.durationMs);
  nonNegative('memoryMb', invocation.memoryMb);
  return (invocation.memoryMb / 1024) * (Math.ceil(invocation.durationMs) / 1000);
}

/** CodeBuild bills on-demand builds per started minute. Pure. */
export function codeBuildBilledMinutes(buildSeconds: number): number {
  nonNegative('buildSeconds', buildSeconds);
  return Math.ceil(buildSeconds / 60);
}

/** The cost of one release from what it used. Pure. */
export function releaseCost(usage: ReleaseUsage): ReleaseCost {
  nonNegative('transitions', usage.transitions);
  const price = CODEBUILD_PER_MINUTE[usage.computeType];
  if (price === undefined) throw new RangeError(`no price for CodeBuild ${usage.computeType}`);
  const gbs = usage.invocations.reduce((sum, i) => sum + gbSeconds(i), 0);
  const minutes = codeBuildBilledMinutes(usage.buildSeconds);
  const parts = {
    stepFunctions: usage.transitions * STEP_FUNCTIONS_PER_TRANSITION,
    lambdaRequests: usage.invocations.length * LAMBDA_PER_REQUEST,
    lambdaDuration: gbs * LAMBDA_ARM64_PER_GB_SECOND,
    codeBuild: minutes * price,
  };
  return {
    ...parts,
    lambdaGbSeconds: gbs,
    codeBuildBilledMinutes: minutes,
    total: parts.stepFunctions + parts.lambdaRequests + parts.lambdaDuration + parts.codeBuild,
  };
}

/**
 * The CodeBuild compute type of the build project from the pipeline stack's source: its
 * `ComputeType.X` and whether its build image is an ARM one. Pure.
 */
export function computeTypeFromStackSource(source: string): CodeBuildComputeType {
  const size = /computeType:\s*ComputeType\.(SMALL|MEDIUM|LARGE)\b/.exec(source)?.[1];
  if (!size) throw new Error('pipeline stack sets no ComputeType.SMALL/MEDIUM/LARGE');
  const arch = /LinuxArmBuildImage\.|ARM_CONTAINER|AMAZON_LINUX_2_ARM/.test(source)
    ? 'arm64'
    : 'x86_64';
  const key = `general1.${size.toLowerCase()}/${arch}`;
  if (!(key in CODEBUILD_PER_MINUTE)) throw new Error(`no price for CodeBuild ${key}`);
  return key as CodeBuildComputeType;
}
