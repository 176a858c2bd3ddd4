import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';

/** A CloudFormation template as CDK synthesizes it (only the parts read here). */
export interface CfnTemplate {
  readonly Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  readonly Outputs?: Record<string, { Value: unknown; Export?: { Name?: unknown } }>;
}

/** Where the resolved ARNs pretend to live. */
export interface ResolveContext {
  readonly region: string;
  readonly account: string;
  readonly partition: string;
}

/** The default pretend account and region for local executions. */
export const LOCAL_CONTEXT: ResolveContext = {
  region: 'us-east-1',
  account: '123456789012',
  partition: 'aws',
};

const NAME_PROPERTIES = [
  'FunctionName',
  'ClusterName',
  'ServiceName',
  'TopicName',
  'TableName',
  'DBInstanceIdentifier',
  'RepositoryName',
  'StateMachineName',
  'BucketName',
  'Name',
];

/**
 * Local stand-ins for `Ref` and `Fn::GetAtt`: a hook returns the local value for a resource, or
 * undefined to keep the plausible AWS one.
 */
export interface ResolveHooks {
  readonly ref?: (logicalId: string, type: string) => string | undefined;
  readonly getAtt?: (logicalId: string, attribute: string, type: string) => string | undefined;
}

interface Scope {
  readonly templates: Readonly<Record<string, CfnTemplate>>;
  readonly stack: string;
  readonly ctx: ResolveContext;
  readonly hooks?: ResolveHooks;
}

function physicalName(scope: Scope, logicalId: string): string {
  const props = scope.templates[scope.stack]?.Resources?.[logicalId]?.Properties ?? {};
  for (const key of NAME_PROPERTIES) {
    const value = props[key];
    if (typeof value === 'string') return value;
  }
  return `${scope.stack}-${logicalId}`.toLowerCase().slice(0, 63);
}

function arnOf(scope: Scope, type: string, name: string): string {
  const { region, account, partition } = scope.ctx;
  const arn = (service: string, resource: string) =>
    `arn:${partition}:${service}:${region}:${account}:${resource}`;
  switch (type) {
    case 'AWS::Lambda::Function':
      return arn('lambda', `function:${name}`);
    case 'AWS::ECS::Cluster':
      return arn('ecs', `cluster/${name}`);
    case 'AWS::ECS::Service':
      return arn('ecs', `service/${name}`);
    case 'AWS::ECS::TaskDefinition':
      return arn('ecs', `task-definition/${name}:1`);
    case 'AWS::SNS::Topic':
      return arn('sns', name);
    case 'AWS::DynamoDB::Table':
      return arn('dynamodb', `table/${name}`);
    case 'AWS::ElasticLoadBalancingV2::TargetGroup':
      return arn('elasticloadbalancing', `targetgroup/${name.slice(0, 32)}/0123456789abcdef`);
    case 'AWS::ElasticLoadBalancingV2::LoadBalancer':
      return arn('elasticloadbalancing', `loadbalancer/app/${name.slice(0, 32)}/0123456789abcdef`);
    case 'AWS::RDS::DBInstance':
      return arn('rds', `db:${name}`);
    case 'AWS::CodeBuild::Project':
      return arn('codebuild', `project/${name}`);
    case 'AWS::StepFunctions::StateMachine':
      return arn('states', `stateMachine:${name}`);
    case 'AWS::S3::Bucket':
      return `arn:${scope.ctx.partition}:s3:::${name}`;
    case 'AWS::ECR::Repository':
      return arn('ecr', `repository/${name}`);
    case 'AWS::CodeCommit::Repository':
      return arn('codecommit', name);
    case 'AWS::IAM::Role':
      return `arn:${partition}:iam::${account}:role/${name}`;
    default:
      return arn(type.split('::')[1]?.toLowerCase() ?? 'unknown', name);
  }
}

// Ref returns the ARN for these types and the physical name for the rest.
const REF_IS_ARN = new Set([
  'AWS::SNS::Topic',
  'AWS::ECS::Service',
  'AWS::ECS::TaskDefinition',
  'AWS::ElasticLoadBalancingV2::TargetGroup',
  'AWS::ElasticLoadBalancingV2::LoadBalancer',
  'AWS::StepFunctions::StateMachine',
]);

function ref(scope: Scope, id: string): string {
  const pseudo: Record<string, string> = {
    'AWS::Region': scope.ctx.region,
    'AWS::AccountId': scope.ctx.account,
    'AWS::Partition': scope.ctx.partition,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': scope.stack,
    'AWS::NoValue': '',
  };
  if (id in pseudo) return pseudo[id] as string;
  const resource = scope.templates[scope.stack]?.Resources?.[id];
  if (!resource) throw new Error(`Ref to unknown resource ${id} in ${scope.stack}`);
  const local = scope.hooks?.ref?.(id, resource.Type);
  if (local !== undefined) return local;
  const name = physicalName(scope, id);
  return REF_IS_ARN.has(resource.Type) ? arnOf(scope, resource.Type, name) : name;
}

function getAtt(scope: Scope, id: string, attribute: string): string {
  const resource = scope.templates[scope.stack]?.Resources?.[id];
  if (!resource) throw new Error(`Fn::GetAtt on unknown resource ${id} in ${scope.stack}`);
  const local = scope.hooks?.getAtt?.(id, attribute, resource.Type);
  if (local !== undefined) return local;
  const name = physicalName(scope, id);
  const { region } = scope.ctx;
  switch (attribute) {
    case 'Arn':
    case 'TopicArn':
    case 'ServiceArn':
    case 'TargetGroupArn':
    case 'LoadBalancerArn':
    case 'DBInstanceArn':
      return arnOf(scope, resource.Type, name);
    case 'Name':
    case 'TopicName':
    case 'ServiceName':
    case 'TargetGroupName':
      return name;
    case 'DNSName':
      return `${name}.${region}.elb.amazonaws.com`;
    case 'CloneUrlHttp':
      return `https://git-codecommit.${region}.amazonaws.com/v1/repos/${name}`;
    case 'RepositoryUri':
      return `${scope.ctx.account}.dkr.ecr.${region}.amazonaws.com/${name}`;
    case 'Endpoint.Address':
      return `${name}.abcdefghijkl.${region}.rds.amazonaws.com`;
    case 'Endpoint.Port':
      return '3306';
    default:
      return `${name}-${attribute.toLowerCase()}`;
  }
}

function resolveImport(scope: Scope, exportName: string): unknown {
  for (const [stack, template] of Object.entries(scope.templates)) {
    for (const output of Object.values(template.Outputs ?? {})) {
      const name = resolveValue({ ...scope, stack }, output.Export?.Name);
      if (name === exportName) return resolveValue({ ...scope, stack }, output.Value);
    }
  }
  throw new Error(`Fn::ImportValue ${exportName} is exported by none of the given templates`);
}

function resolveValue(scope: Scope, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveValue(scope, v));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [key, arg] = entries[0] as [string, unknown];
    switch (key) {
      case 'Ref':
        return ref(scope, arg as string);
      case 'Fn::GetAtt': {
        const [id, attribute] = Array.isArray(arg) ? arg : String(arg).split(/\.(.+)/);
        return getAtt(scope, id as string, attribute as string);
      }
      case 'Fn::Join': {
        const [sep, parts] = arg as [string, unknown[]];
        return (resolveValue(scope, parts) as unknown[]).join(sep);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        return (resolveValue(scope, list) as unknown[])[Number(resolveValue(scope, index))];
      }
      case 'Fn::Split': {
        const [sep, source] = arg as [string, unknown];
        return String(resolveValue(scope, source)).split(sep);
      }
      case 'Fn::ImportValue':
        return resolveImport(scope, String(resolveValue(scope, arg)));
      case 'Fn::Sub': {
        const [text, vars] = (Array.isArray(arg) ? arg : [arg, {}]) as [
          string,
          Record<string, unknown>,
        ];
        return text.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
          if (name in vars) return String(resolveValue(scope, vars[name]));
          const [id, attribute] = name.split(/\.(.+)/) as [string, string | undefined];
          return attribute ? getAtt(scope, id, attribute) : ref(scope, id);
        });
      }
      default:
        break;
    }
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveValue(scope, v)]));
}

/**
 * A template value with its intrinsic functions (Ref, Fn::GetAtt, Fn::Join, Fn::Sub,
 * Fn::ImportValue, ...) resolved, `hooks` first, plausible AWS names and ARNs otherwise. Pure.
 */
export function resolveTemplateValue(
  templates: Readonly<Record<string, CfnTemplate>>,
  stack: string,
  value: unknown,
  hooks?: ResolveHooks,
  context: ResolveContext = LOCAL_CONTEXT,
): unknown {
  return resolveValue({ templates, stack, ctx: context, ...(hooks ? { hooks } : {}) }, value);
}

/** Which state machine to take from the template. */
export interface DefinitionQuery {
  /** Stack holding the state machine, keyed as in `templates`. */
  readonly stack: string;
  /** All templates of the app (stack name → template), so cross-stack imports resolve. */
  readonly templates: Readonly<Record<string, CfnTemplate>>;
  /** Picks the state machine whose StateMachineName or logical id contains this (default 'release'). */
  readonly match?: string;
  readonly context?: ResolveContext;
}

/**
 * The ASL of a state machine exactly as deployed: its DefinitionString from the synthesized
 * template with every DefinitionSubstitution (Ref, GetAtt, Join, ImportValue, ...) resolved to
 * plausible local ARNs and names. Throws if any `${Placeholder}` is left unfilled.
 */
export function definitionFromTemplate(query: DefinitionQuery): StateMachineDefinition {
  const scope: Scope = {
    templates: query.templates,
    stack: query.stack,
    ctx: query.context ?? LOCAL_CONTEXT,
  };
  const match = (query.match ?? 'release').toLowerCase();
  const resources = Object.entries(query.templates[query.stack]?.Resources ?? {}).filter(
    ([, r]) => r.Type === 'AWS::StepFunctions::StateMachine',
  );
  const found = resources.find(
    ([id, r]) =>
      String(r.Properties?.StateMachineName ?? '')
        .toLowerCase()
        .includes(match) || id.toLowerCase().includes(match),
  );
  if (!found) throw new Error(`no state machine matching "${match}" in ${query.stack}`);
  const [, machine] = found;
  const body = String(resolveValue(scope, machine.Properties?.DefinitionString));
  const substitutions = resolveValue(
    scope,
    machine.Properties?.DefinitionSubstitutions ?? {},
  ) as Record<string, unknown>;
  const filled = body.replace(/\$\{([A-Za-z0-9_]+)\}/g, (placeholder, name: string) =>
    name in substitutions ? JSON.stringify(String(substitutions[name])).slice(1, -1) : placeholder,
  );
  const left = [...filled.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]);
  if (left.length > 0)
    throw new Error(`unfilled placeholders in ${query.stack}: ${left.join(', ')}`);
  return JSON.parse(filled) as StateMachineDefinition;
}

/** Reads every `*.template.json` named in cdk.out's manifest-free layout, keyed by stack name. */
export function readCdkOut(dir: string, stacks: readonly string[]): Record<string, CfnTemplate> {
  return Object.fromEntries(
    stacks.map((stack) => [
      stack,
      JSON.parse(readFileSync(join(dir, `${stack}.template.json`), 'utf8')) as CfnTemplate,
    ]),
  );
}
