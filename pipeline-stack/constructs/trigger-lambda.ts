import { fileURLToPath } from 'node:url';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Props of a trigger-side Lambda (StartRelease, FormatNotification). */
export interface TriggerLambdaProps {
  /** Folder under functions/ holding handler.ts. */
  readonly folder: string;
  readonly description: string;
  readonly environment: Record<string, string>;
}

/**
 * The Lambda defaults the trigger and notification functions share (Node 24, arm64,
 * X-Ray, explicit log group with retention, esbuild keepNames + source maps). Kept here
 * rather than in step-function.ts because these functions are not state machine steps.
 */
export class TriggerLambda extends Construct {
  readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, props: TriggerLambdaProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
    });
    this.function = new NodejsFunction(this, 'Function', {
      entry: fileURLToPath(new URL(`../../functions/${props.folder}/handler.ts`, import.meta.url)),
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(30),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'stepdeploy',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        keepNames: true,
        sourceMap: true,
        minify: true,
        target: 'node24',
        mainFields: ['module', 'main'],
        // ESM bundles of CommonJS dependencies need a require shim.
        banner:
          "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
    });
    // Acknowledged on this construct so they cover the role and its default policy.
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'AWSLambdaBasicExecutionRole only lets the function write its own CloudWatch logs.',
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource scoping.',
    });
  }
}

/**
 * The cdk-nag finding id a token-bearing resource string produces (cdk-nag's own
 * flattening: Join concatenated, Ref/GetAtt as <…>, anything else as JSON), so a specific
 * wildcard can be acknowledged even when it contains references.
 */
export function nagResourceId(scope: Construct, value: string): string {
  const visit = (node: unknown): string => {
    if (node === undefined) return '';
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/}/g, '>');
    const record = node as Record<string, unknown>;
    if (record['Fn::Join']) {
      const [delimiter, items] = record['Fn::Join'] as [string, unknown[]];
      return items.map(visit).join(delimiter);
    }
    if (record['Fn::Sub']) return visit(record['Fn::Sub']);
    if (record['Fn::GetAtt']) {
      const [resource, attribute] = record['Fn::GetAtt'] as [unknown, unknown];
      return `<${visit(resource)}.${visit(attribute)}>`;
    }
    if (record['Fn::ImportValue']) return visit(record['Fn::ImportValue']);
    if (record.Ref) return `<${visit(record.Ref)}>`;
    return JSON.stringify(node);
  };
  return `Resource::${visit(Stack.of(scope).resolve(value))}`;
}
