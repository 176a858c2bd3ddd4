import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ApplicationStack } from './application-stack.ts';
import { loadConfig } from './config.ts';
import { PipelineStack } from './pipeline-stack.ts';

// Entry of the CDK app: read the typed config, wire the stacks, check them with cdk-nag.
// Nothing here looks anything up in AWS, so `cdk synth` works offline without credentials.
const app = new App();
const config = loadConfig(app);
const env = { account: config.account, region: config.region };

const application = new ApplicationStack(app, `${config.prefix}-application`, {
  env,
  config,
  description: 'stepdeploy: WordPress on ECS Fargate behind an ALB, RDS MySQL, EFS uploads',
});

new PipelineStack(app, `${config.prefix}-pipeline`, {
  env,
  config,
  application,
  description:
    'stepdeploy: image build, release and verify-restore state machines, ledger, lock, triggers, notifications, dashboard',
});

// cdk-nag 3 is a policy-validation plugin: any unacknowledged finding (error or warning)
// fails `cdk synth` with a non-zero exit code.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));

app.synth();
