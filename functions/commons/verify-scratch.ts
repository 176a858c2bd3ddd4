/** Names and tags of scratch instances, shared by PickSnapshot, the sweeper, the CDK construct and local mode. */
import { createHash } from 'node:crypto';

/** Tag keys every scratch instance carries; the sweeper's IAM is conditioned on the first. */
export const SCRATCH_TAG = 'stepdeploy:scratch';
export const RUN_ID_TAG = 'stepdeploy:run-id';
export const EXPIRES_AT_TAG = 'stepdeploy:expires-at';

/**
 * A valid, deterministic RDS identifier for a run's scratch instance (letters, digits and single
 * hyphens, starts with a letter, at most 63 characters): the same run always gets the same one,
 * so a retried restore finds its own instance instead of making a second.
 */
export function scratchInstanceId(prefix: string, runId: string): string {
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-$/, '')
    .slice(0, 40);
  const hash = createHash('sha256').update(runId).digest('hex').slice(0, 12);
  return `${clean || 'stepdeploy'}-scratch-${hash}`;
}

/** When a scratch instance may be swept: `ttlMinutes` after `now`, ISO 8601. */
export function scratchExpiry(now: Date, ttlMinutes: number): string {
  return new Date(now.getTime() + ttlMinutes * 60_000).toISOString();
}

/** A database instance as the sweeper sees it. */
export interface ScratchCandidate {
  readonly id: string;
  readonly status: string;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * Which instances the sweeper deletes: only those tagged scratch=true whose expiry tag has
 * passed and that are not already going away. An instance without a parseable expiry is kept
 * (and reported) rather than guessed at.
 */
export function expiredScratch(
  instances: readonly ScratchCandidate[],
  now: Date,
): { readonly expired: string[]; readonly unparseable: string[] } {
  const expired: string[] = [];
  const unparseable: string[] = [];
  for (const instance of instances) {
    if (instance.tags[SCRATCH_TAG] !== 'true') continue;
    if (instance.status === 'deleting') continue;
    const expiresAt = Date.parse(instance.tags[EXPIRES_AT_TAG] ?? '');
    if (Number.isNaN(expiresAt)) unparseable.push(instance.id);
    else if (expiresAt <= now.getTime()) expired.push(instance.id);
  }
  return { expired, unparseable };
}
