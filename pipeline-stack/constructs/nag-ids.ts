import { type CfnElement, Stack, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** An ARN as cdk-nag spells it in a finding id (`arn:<AWS::Partition>:svc:region:<AWS::AccountId>:...`). */
export function nagArn(scope: IConstruct, service: string, resource: string): string {
  const { region, account } = Stack.of(scope);
  const r = Token.isUnresolved(region) ? '<AWS::Region>' : region;
  const a = Token.isUnresolved(account) ? '<AWS::AccountId>' : account;
  return `arn:<AWS::Partition>:${service}:${r}:${a}:${resource}`;
}

/** `<LogicalId.Arn>` / `<LogicalId>` as cdk-nag spells a GetAtt/Ref in a finding id. */
export function nagRef(resource: IConstruct, attribute?: string): string {
  const id = Stack.of(resource).getLogicalId(resource.node.defaultChild as CfnElement);
  return attribute ? `<${id}.${attribute}>` : `<${id}>`;
}

/**
 * The cdk-nag finding id part for a resource string that may hold tokens, flattened exactly as
 * cdk-nag's (unexported) flattenCfnReference does: Fn::Join concatenated, Ref/GetAtt as
 * `<...>`, Fn::Sub's `${X}` as `<X>`, anything else (arrays too) as JSON. So one
 * specific wildcard can be acknowledged: `AwsSolutions-IAM5[${nagResource(scope, arn)}]`.
 */
export function nagResource(scope: IConstruct, value: string): string {
  const visit = (node: unknown): string => {
    if (node === undefined || node === null) return '';
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/}/g, '>');
    const record = node as Record<string, unknown>;
    if ('Fn::Join' in record) {
      const [delimiter, items] = record['Fn::Join'] as [string, unknown[]];
      return items.map(visit).join(delimiter);
    }
    if ('Fn::Sub' in record) return visit(record['Fn::Sub']);
    if ('Fn::GetAtt' in record) {
      const [resource, attribute] = record['Fn::GetAtt'] as [unknown, unknown];
      return `<${visit(resource)}.${visit(attribute)}>`;
    }
    if ('Fn::ImportValue' in record) return visit(record['Fn::ImportValue']);
    if ('Ref' in record) return `<${visit(record.Ref)}>`;
    return JSON.stringify(node);
  };
  return `Resource::${visit(Stack.of(scope).resolve(value))}`;
}
