import { type EnvironmentSchema, noEnvironment } from '#commons/env.ts';
import { environmentSchema as acquireLock } from '#functions/acquire-lock/env.ts';
import { environmentSchema as checkTrial } from '#functions/check-trial/env.ts';
import { environmentSchema as compareSchema } from '#functions/compare-schema/env.ts';
import { environmentSchema as findLastKnownGood } from '#functions/find-last-known-good/env.ts';
import { environmentSchema as formatNotification } from '#functions/format-notification/env.ts';
import { environmentSchema as freeAbandonedLock } from '#functions/free-abandoned-lock/env.ts';
import { environmentSchema as pickSnapshot } from '#functions/pick-snapshot/env.ts';
import { environmentSchema as pruneSnapshots } from '#functions/prune-snapshots/env.ts';
import { environmentSchema as publishMetrics } from '#functions/publish-metrics/env.ts';
import { environmentSchema as recordRelease } from '#functions/record-release/env.ts';
import { environmentSchema as recordSnapshotManifest } from '#functions/record-snapshot-manifest/env.ts';
import { environmentSchema as releaseLock } from '#functions/release-lock/env.ts';
import { environmentSchema as startRelease } from '#functions/start-release/env.ts';
import { environmentSchema as verifyApplication } from '#functions/verify-application/env.ts';
import { environmentSchema as verifyData } from '#functions/verify-data/env.ts';

/**
 * The environment each Lambda step's handler declares (`functions/<step>/env.ts`), by its
 * folder: StepFunction lets a construct set only these names, and test/cdk/handler-environment
 * checks that every function of the synthesized stacks gets all of them.
 */
export const HANDLER_ENVIRONMENTS = {
  'acquire-lock': acquireLock,
  'check-health': noEnvironment,
  'check-installed': noEnvironment,
  'check-trial': checkTrial,
  'compare-schema': compareSchema,
  'deploy-service': noEnvironment,
  'find-last-known-good': findLastKnownGood,
  'format-notification': formatNotification,
  'free-abandoned-lock': freeAbandonedLock,
  'pick-snapshot': pickSnapshot,
  'prune-snapshots': pruneSnapshots,
  'publish-metrics': publishMetrics,
  'read-build-output': noEnvironment,
  'record-release': recordRelease,
  'record-snapshot-manifest': recordSnapshotManifest,
  'register-task-definition': noEnvironment,
  'register-verification-task-definition': noEnvironment,
  'release-lock': releaseLock,
  'smoke-test': noEnvironment,
  'start-release': startRelease,
  'sweep-scratch-instances': noEnvironment,
  'validate-input': noEnvironment,
  'verify-application': verifyApplication,
  'verify-data': verifyData,
} as const satisfies Readonly<Record<string, EnvironmentSchema>>;

/** A Lambda step: its folder under functions/. */
export type StepName = keyof typeof HANDLER_ENVIRONMENTS;

/** The variables the handler of `S` declares (for a union of steps: those all of them declare). */
export type StepVariable<S extends StepName> = keyof (typeof HANDLER_ENVIRONMENTS)[S]['shape'] &
  string;

/** The steps whose handler declares every one of the names `N`. */
export type StepsReading<N extends string> = {
  [S in StepName]: [N] extends [StepVariable<S>] ? S : never;
}[StepName];

/** Values for some of the variables of step `S` (the bindX() methods set the others). */
export type StepEnvironment<S extends StepName> = { readonly [K in StepVariable<S>]?: string };
