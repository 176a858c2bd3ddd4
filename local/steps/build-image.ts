import { randomUUID } from 'node:crypto';
import { IMAGE_FAULTS } from '../image-faults.ts';
import { buildImage as packerBuild } from '../packer.ts';
import type { Json } from '../runner.ts';
import { stagedSource } from '../site-source.ts';
import { familyOf, type StepContext } from './context.ts';

interface StartBuildInput {
  readonly ProjectName: string;
  readonly SourceTypeOverride?: string;
  readonly SourceLocationOverride?: string;
  readonly SourceVersion?: string;
  readonly EnvironmentVariablesOverride?: readonly { Name: string; Type?: string; Value: string }[];
}

/** The image repository local releases push to (inside the local registry). */
export function repositoryOf(service: string): string {
  return `${familyOf(service)}`.replace(/^stepdeploy-/, 'stepdeploy/');
}

/**
 * BuildImage (`codebuild:startBuild.sync`): the real `packer build` of packer/ with the Ansible
 * role, pushed to the local registry on 127.0.0.1. Answers like the .sync integration: the
 * finished Build with IMAGE_URI and IMAGE_DIGEST in ExportedEnvironmentVariables.
 */
export function buildImage(ctx: StepContext) {
  return async (raw: Json): Promise<Json> => {
    const input = raw as unknown as StartBuildInput;
    const env = Object.fromEntries(
      (input.EnvironmentVariablesOverride ?? []).map((v) => [v.Name, v.Value]),
    );
    const sourceRevision = env.SOURCE_REVISION ?? input.SourceVersion;
    if (!sourceRevision) throw new Error('BuildImage needs SOURCE_REVISION or SourceVersion');
    const started = ctx.now();
    const extraVars: Record<string, string> = ctx.build.fault
      ? { ...IMAGE_FAULTS[ctx.build.fault] }
      : {};
    if (ctx.build.fault)
      ctx.note(
        `BuildImage: building with fault ${ctx.build.fault} (${Object.entries(extraVars)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')})`,
      );
    // What CodeBuild would download from the source bucket: the source staged under its hash.
    const siteDir = await stagedSource(ctx.config.stateDir, sourceRevision);
    const result = await packerBuild({
      sourceRevision,
      siteDir,
      registry: ctx.registry.url,
      repository: repositoryOf(ctx.config.service),
      extraVars,
      onLog: ctx.build.onLog,
    });
    ctx.note(
      `BuildImage: pushed ${result.imageUri} (base ${result.baseReused ? 'reused' : 'built'}${result.appStageSkipped ? ', source and build unchanged: the image built before, no rebuild' : ''})`,
    );
    const id = `${input.ProjectName}:${randomUUID()}`;
    return {
      Build: {
        Id: id,
        Arn: `arn:local:codebuild:build/${id}`,
        BuildNumber: 1,
        BuildStatus: 'SUCCEEDED',
        BuildComplete: true,
        CurrentPhase: 'COMPLETED',
        ProjectName: input.ProjectName,
        SourceVersion: input.SourceVersion ?? sourceRevision,
        ResolvedSourceVersion: sourceRevision,
        StartTime: started.toISOString(),
        EndTime: ctx.now().toISOString(),
        ExportedEnvironmentVariables: [
          // Pinned by digest, so the ledger (and `local rollback`) always names an immutable image.
          { Name: 'IMAGE_URI', Value: result.imageUri },
          { Name: 'IMAGE_DIGEST', Value: result.imageDigest },
          { Name: 'IMAGE_TAG', Value: result.tag },
        ],
      },
    };
  };
}
