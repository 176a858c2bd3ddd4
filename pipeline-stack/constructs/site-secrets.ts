import { CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { AppConfig } from '../config.ts';
import { acknowledge } from '../nag.ts';
import { LAMBDA_BUNDLING, lambdaSource } from './step-function.ts';
import { ADMIN_USER } from './wordpress-contract.ts';

/** Props of {@link SiteSecrets}. */
export interface SiteSecretsProps {
  readonly config: Pick<AppConfig, 'prefix'>;
  /** Retention of the salts generator's logs. */
  readonly retention: logs.RetentionDays;
}

/**
 * The site's own secrets: the eight WordPress salts (filled once by {@link WordPressSalts}) and
 * the first admin login. Created in `scope` under the ids they always had (see Network for why
 * no Construct node of its own).
 */
export class SiteSecrets {
  /** Generated WordPress salts (JSON with SALT_KEYS). */
  readonly saltsSecret: secretsmanager.Secret;
  /** The admin login the first install creates (JSON `username`, `password`). */
  readonly adminSecret: secretsmanager.Secret;
  /** Fills {@link saltsSecret}; whatever reads the salts must depend on it. */
  readonly saltsGenerator: WordPressSalts;

  constructor(scope: Construct, props: SiteSecretsProps) {
    this.saltsSecret = new secretsmanager.Secret(scope, 'Salts', {
      secretName: `${props.config.prefix}/wordpress-salts`,
      description: 'WordPress authentication keys and salts (JSON, one key per salt)',
    });
    // No fixed name (a rolled-back create leaves no name to collide with); the output names it.
    this.adminSecret = new secretsmanager.Secret(scope, 'AdminPassword', {
      description: 'WordPress admin login created by the first install (stepdeploy-install)',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: ADMIN_USER }),
        generateStringKey: 'password',
        passwordLength: 32,
        // Characters a shell, a form or a PHP string literal would need escaped.
        excludeCharacters: ' %+~`#$&*()|[]{}:;<>?!\'/@"\\',
      },
    });
    this.saltsGenerator = new WordPressSalts(scope, 'SaltsGenerator', {
      secret: this.saltsSecret,
      retention: props.retention,
    });

    acknowledge(this.adminSecret, {
      'AwsSolutions-SMG4':
        'The password is the first admin login only; WordPress keeps its own hash, so rotating ' +
        'the secret would not change the login. Change it in wp-admin.',
    });
    acknowledge(this.saltsSecret, {
      'AwsSolutions-SMG4':
        'Rotating salts logs every user out; they are rotated deliberately by an operator, ' +
        'not on a schedule.',
    });
  }
}

/** Props of {@link WordPressSalts}. */
export interface WordPressSaltsProps {
  readonly secret: secretsmanager.ISecret;
  readonly retention: logs.RetentionDays;
}

/**
 * Fills the salts secret with eight random values once, at creation (functions/generate-salts).
 * CloudFormation can generate only one random key per secret; this writes all eight without the
 * values ever appearing in the template, the custom-resource response or the logs. Later
 * updates leave the salts alone, because changing them logs every user out.
 */
export class WordPressSalts extends Construct {
  constructor(scope: Construct, id: string, props: WordPressSaltsProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.retention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // A dedicated role instead of AWSLambdaBasicExecutionRole: write to this log group and
    // put a value into this one secret, nothing else.
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Writes generated WordPress salts into their secret',
    });
    logGroup.grantWrite(role);
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:PutSecretValue'],
        resources: [props.secret.secretArn],
      }),
    );
    // Not a StepFunction: that construct's log group and managed role would sit at other
    // paths (new logical ids) and grant more than this function needs. Same bundling though.
    const handler = new NodejsFunction(this, 'Function', {
      ...lambdaSource('generate-salts'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      role,
      logGroup,
      timeout: Duration.seconds(30),
      memorySize: 256,
      description: 'Generates the eight WordPress salts into Secrets Manager',
      environment: { NODE_OPTIONS: '--enable-source-maps' },
      bundling: LAMBDA_BUNDLING,
    });
    handler.node.addDependency(role);
    const resource = new CustomResource(this, 'Resource', {
      serviceToken: handler.functionArn,
      resourceType: 'Custom::WordPressSalts',
      properties: { SecretId: props.secret.secretArn },
    });
    resource.node.addDependency(role);
  }
}
