import type { StepHandler } from '../runner.ts';
import { acquireLock } from './acquire-lock.ts';
import { buildImage } from './build-image.ts';
import { checkHealth } from './check-health.ts';
import { checkInstalled } from './check-installed.ts';
import { checkSnapshot } from './check-snapshot.ts';
import { compareSchema } from './compare-schema.ts';
import type { StepContext } from './context.ts';
import { deployService } from './deploy-service.ts';
import { findLastKnownGood } from './find-last-known-good.ts';
import { installWordPress } from './install-wordpress.ts';
import { notify } from './notify.ts';
import { pruneSnapshots } from './prune-snapshots.ts';
import { readBuildOutput } from './read-build-output.ts';
import { recordRelease } from './record-release.ts';
import { recordSnapshotManifest } from './record-snapshot-manifest.ts';
import { registerTaskDefinition } from './register-task-definition.ts';
import { releaseLock } from './release-lock.ts';
import { smokeTest } from './smoke-test.ts';
import { snapshotDatabase } from './snapshot-database.ts';
import { checkTrial, startTrial, stopTrial } from './trial.ts';
import { validateInput } from './validate-input.ts';
import { verifyBackup } from './verify-backup.ts';

/**
 * Every Task state of the release machine bound to its local adapter, by state name. Rollback
 * and CheckRollbackHealth are the DeployService and CheckHealth steps, as in the ASL; StopTrial
 * and StopRefusedTrial are one `ecs:stopTask`.
 */
export function releaseHandlers(ctx: StepContext): Record<string, StepHandler> {
  return {
    ValidateInput: validateInput(ctx),
    AcquireLock: acquireLock(ctx),
    BuildImage: buildImage(ctx),
    ReadBuildOutput: readBuildOutput(),
    RecordSnapshotManifest: recordSnapshotManifest(ctx),
    SnapshotDatabase: snapshotDatabase(ctx),
    CheckSnapshot: checkSnapshot(ctx),
    VerifyBackup: verifyBackup(ctx),
    RegisterTaskDefinition: registerTaskDefinition(ctx),
    StartTrial: startTrial(ctx),
    CheckTrial: checkTrial(ctx),
    StopTrial: stopTrial(ctx),
    StopRefusedTrial: stopTrial(ctx),
    DeployService: deployService(ctx),
    CheckHealth: checkHealth(ctx, 'WaitForHealth'),
    CheckInstalled: checkInstalled(ctx),
    InstallWordPress: installWordPress(ctx),
    SmokeTest: smokeTest(ctx),
    FindLastKnownGood: findLastKnownGood(ctx),
    Rollback: deployService(ctx),
    CheckRollbackHealth: checkHealth(ctx, 'WaitForRollbackHealth'),
    CompareSchema: compareSchema(ctx),
    RecordRelease: recordRelease(ctx),
    PruneSnapshots: pruneSnapshots(ctx),
    ReleaseLock: releaseLock(ctx),
    Notify: notify(ctx),
  };
}
