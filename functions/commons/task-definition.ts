import type {
  ContainerDefinition,
  DescribeTaskDefinitionCommandOutput,
  RegisterTaskDefinitionCommandInput,
  TaskDefinition,
} from '@aws-sdk/client-ecs';
import { TaskDefinitionError } from '#commons/errors.ts';

/** An image reference pinned by digest: `<repository>@sha256:<64 hex>`. */
export const DIGEST_IMAGE = /^[a-z0-9][a-z0-9._\-/:]*@sha256:[a-f0-9]{64}$/;

// Variable names that would carry a secret in plain text; secrets belong in `secrets` references.
const SECRET_LIKE = /(PASSWORD|SECRET|TOKEN|PRIVATE_KEY|_KEY|_SALT)$/i;

/** The task definition's containers; throws when none is named `containerName`. */
function containersWith(td: TaskDefinition, containerName: string): ContainerDefinition[] {
  const containers = td.containerDefinitions ?? [];
  if (!containers.some((c) => c.name === containerName)) {
    throw new TaskDefinitionError(
      `container "${containerName}" not found in ${td.family} (has: ${containers.map((c) => c.name).join(', ') || 'none'})`,
    );
  }
  return containers;
}

/** The task definition without the read-only fields that RegisterTaskDefinition refuses. */
function writableFields(td: TaskDefinition) {
  const {
    taskDefinitionArn: _arn,
    revision: _revision,
    status: _status,
    requiresAttributes: _requires,
    compatibilities: _compat,
    registeredAt: _at,
    registeredBy: _by,
    deregisteredAt: _dereg,
    deleteRequestedAt: _del,
    ...writable
  } = td;
  return writable;
}

/**
 * Builds the RegisterTaskDefinition input for the service's current task definition with the
 * named container's image swapped to `image` (a digest reference). Read-only fields that
 * DescribeTaskDefinition returns but RegisterTaskDefinition refuses are stripped; `secrets`
 * references are kept as they are and never resolved.
 */
export function cloneTaskDefinition(
  current: Pick<DescribeTaskDefinitionCommandOutput, 'taskDefinition' | 'tags'>,
  containerName: string,
  image: string,
): RegisterTaskDefinitionCommandInput {
  const td = current.taskDefinition;
  if (!td?.family) throw new TaskDefinitionError('the current task definition has no family');
  if (!DIGEST_IMAGE.test(image)) {
    throw new TaskDefinitionError(`image must be pinned by digest (<repo>@sha256:<hex>): ${image}`);
  }
  const containers = containersWith(td, containerName);
  for (const c of containers) {
    const leaked = c.environment?.find((e) => e.name && SECRET_LIKE.test(e.name));
    if (leaked) {
      throw new TaskDefinitionError(
        `container "${c.name}" has ${leaked.name} as a plain environment variable; use secrets`,
      );
    }
  }
  return {
    ...writableFields(td),
    family: td.family,
    containerDefinitions: containers.map((c) => (c.name === containerName ? { ...c, image } : c)),
    ...(current.tags && current.tags.length > 0 ? { tags: current.tags } : {}),
  };
}

/**
 * `<repository>@<digest>` from a build's IMAGE_URI (tagged or already pinned) and IMAGE_DIGEST,
 * so the service never runs a mutable tag.
 */
export function pinImage(uri: string, digest: string): string {
  if (!/^sha256:[a-f0-9]{64}$/.test(digest)) {
    throw new TaskDefinitionError(`image digest must be sha256:<64 hex>: ${digest}`);
  }
  const at = uri.indexOf('@');
  let repository = at >= 0 ? uri.slice(0, at) : uri;
  const lastSlash = repository.lastIndexOf('/');
  const colon = repository.lastIndexOf(':');
  if (colon > lastSlash) repository = repository.slice(0, colon);
  return `${repository}@${digest}`;
}

/** Suffix of the family the backup verification registers its task definitions in. */
export const VERIFICATION_FAMILY_SUFFIX = '-verify';

/**
 * The backup verification's own task definition, derived from the revision the service runs
 * (same image, secrets, user, limits and health check): family `<family>-verify`; every
 * persistent volume (EFS, Docker volume, host path) replaced by an empty task-local one of the
 * same name, so the one-off task can never write into the live uploads; and the named
 * container's WORDPRESS_SITE_URL set to the scratch site URL, so nothing it renders or
 * redirects to points at the live site. Pure; shared by the Lambda and the local adapter.
 */
export function verificationTaskDefinition(
  current: Pick<DescribeTaskDefinitionCommandOutput, 'taskDefinition'>,
  containerName: string,
  siteUrl: string,
): RegisterTaskDefinitionCommandInput {
  const td = current.taskDefinition;
  if (!td?.family) throw new TaskDefinitionError('the current task definition has no family');
  const containers = containersWith(td, containerName);
  const family = td.family.endsWith(VERIFICATION_FAMILY_SUFFIX)
    ? td.family
    : `${td.family}${VERIFICATION_FAMILY_SUFFIX}`;
  return {
    ...writableFields(td),
    family,
    // Only the name survives: a volume without host or configuration is task-local and empty.
    volumes: (td.volumes ?? []).map((v) => ({ name: v.name })),
    containerDefinitions: containers.map((c) =>
      c.name === containerName
        ? {
            ...c,
            environment: [
              ...(c.environment ?? []).filter((e) => e.name !== 'WORDPRESS_SITE_URL'),
              { name: 'WORDPRESS_SITE_URL', value: siteUrl },
            ],
          }
        : c,
    ),
  };
}
