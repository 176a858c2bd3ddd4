import type { z } from 'zod';
import { InvalidInputError } from '#commons/errors.ts';
import { type Release, type ReleaseTarget, releaseInputSchema } from '#commons/release.ts';
import { DIGEST_IMAGE } from '#commons/task-definition.ts';

/** One line per problem, each naming the field path, e.g. `source.commitId: must be ...`. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(input)'}: ${i.message}`)
    .join('; ');
}

/** A release id derived from the execution name when the input gives none. */
export function releaseIdFrom(executionName: string): string {
  const id = executionName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return id.length > 0 ? id : 'release';
}

/**
 * Validates and normalises a release request. Pure: throws InvalidInputError naming every
 * wrong field; returns what later steps need (build source override, snapshot id, options).
 */
export function validateRelease(
  raw: unknown,
  context: { executionName: string; startTime: string; target: ReleaseTarget },
): Release {
  const parsed = releaseInputSchema.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidInputError(`invalid release input: ${describeIssues(parsed.error.issues)}`);
  }
  const input = parsed.data;
  const releaseId = input.releaseId ?? releaseIdFrom(context.executionName);
  const base = {
    releaseId,
    trigger: input.trigger,
    startedBy: input.startedBy,
    startedAt: context.startTime,
    snapshotId: `${context.target.snapshotPrefix}-${releaseId}`.slice(0, 255),
    target: context.target,
    options: input.options,
  };
  const source = input.source;
  switch (source.type) {
    case 'codecommit':
      return {
        ...base,
        source: {
          type: source.type,
          commitId: source.commitId,
          ...(source.branch ? { branch: source.branch } : {}),
        },
        build: {
          sourceType: 'CODECOMMIT',
          sourceLocation: context.target.sourceRepositoryUrl,
          sourceVersion: source.commitId,
        },
      };
    case 's3':
      return {
        ...base,
        source: { type: source.type, key: source.key, versionId: source.versionId },
        build: {
          sourceType: 'S3',
          sourceLocation: `${context.target.sourceBucket}/${source.key}`,
          sourceVersion: source.versionId,
        },
      };
    case 'image': {
      if (!DIGEST_IMAGE.test(source.imageUri)) {
        throw new InvalidInputError('source.imageUri: must be pinned by digest');
      }
      const digest = source.imageUri.slice(source.imageUri.indexOf('@') + 1);
      return {
        ...base,
        source: { type: source.type, imageUri: source.imageUri },
        image: { uri: source.imageUri, digest },
      };
    }
  }
}
