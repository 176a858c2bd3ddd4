import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { definitionFromTemplate, readCdkOut } from '#local/template.ts';
import { ApplicationStack } from '#stack/application-stack.ts';
import { loadConfig } from '#stack/config.ts';
import { PipelineStack } from '#stack/pipeline-stack.ts';

/** The app wired as pipeline-stack/app.ts wires it, without cdk-nag or synth side effects. */
export function buildApp(context: Record<string, unknown> = {}) {
  // Prove bundling is local esbuild: a Docker fallback would fail loudly.
  process.env.CDK_DOCKER = '/nonexistent';
  const app = new App({ context });
  const config = loadConfig(app);
  const env = { account: '123456789012', region: config.region };
  const application = new ApplicationStack(app, `${config.prefix}-application`, { env, config });
  const pipeline = new PipelineStack(app, `${config.prefix}-pipeline`, {
    env,
    config,
    application,
  });
  return { app, config, application, pipeline };
}

/** The pipeline stack's template, synthesized in-process. */
export function pipelineTemplate(): { template: Template; built: ReturnType<typeof buildApp> } {
  const built = buildApp();
  return { template: Template.fromStack(built.pipeline), built };
}

/**
 * The release ASL exactly as deployed: synthesize the app into a cloud assembly (cdk.out
 * layout), read both stack templates back and resolve the substitutions.
 */
export function releaseDefinitionFromAssembly(): StateMachineDefinition {
  const { app, application, pipeline } = buildApp();
  const assembly = app.synth();
  const templates = readCdkOut(assembly.directory, [application.stackName, pipeline.stackName]);
  return definitionFromTemplate({ stack: pipeline.stackName, templates });
}
