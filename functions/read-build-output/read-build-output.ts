import { NamedError } from '#commons/errors.ts';
import type { ReadBuildOutputEvent, ReadBuildOutputResult } from './schema.ts';

/** The variables the buildspec exports (buildspec/buildspec.yml `exported-variables`). */
export const EXPORTED_IMAGE_VARIABLES = ['IMAGE_URI', 'IMAGE_DIGEST'] as const;

/**
 * The build finished but did not hand back the image it pushed (an exported variable is
 * missing, empty or malformed): nothing can be deployed. The message names the build and
 * the variable.
 */
export class BuildOutputError extends NamedError {
  override readonly name = 'BuildOutputError';
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * The image a finished build exported, or BuildOutputError naming what is missing. Pure.
 * This replaces a ResultSelector with States.ArrayGetItem over a JSONPath filter, which on
 * a build that exported no IMAGE_URI raised States.Runtime: an error no Catch sees, so the
 * release died with its lock held, unrecorded and unannounced.
 */
export function imageFromBuild(build: ReadBuildOutputEvent['build']): ReadBuildOutputResult {
  const exported = new Map(
    (build.ExportedEnvironmentVariables ?? []).map((v) => [v.Name, v.Value ?? ''] as const),
  );
  const missing = EXPORTED_IMAGE_VARIABLES.filter((name) => !exported.get(name));
  if (missing.length > 0) {
    const present = [...exported.keys()].filter((name) => exported.get(name));
    throw new BuildOutputError(
      `build ${build.Id} succeeded but exported no ${missing.join(' and ')} ` +
        `(exported: ${present.length > 0 ? present.join(', ') : 'nothing'}); ` +
        'see its log (stepdeploy logs) for the build phase that skipped the export',
    );
  }
  const uri = exported.get('IMAGE_URI') as string;
  const digest = exported.get('IMAGE_DIGEST') as string;
  if (!DIGEST.test(digest)) {
    throw new BuildOutputError(
      `build ${build.Id} exported IMAGE_DIGEST "${digest.slice(0, 80)}", not sha256:<64 hex>`,
    );
  }
  return { image: { uri, digest, buildId: build.Id } };
}
