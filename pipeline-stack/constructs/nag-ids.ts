import { type CfnElement, Stack, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** An ARN as cdk-nag spells it in a finding id (`arn:<AWS::Partition>:svc:region:<AWS::AccountId>:...`). */
export function nagArn(scope: IConstruct, service: string, resource: string): string {
  const region = Stack.of(scope).region;
  return `arn:<AWS::Partition>:${service}:${Token.isUnresolved(region) ? '<AWS::Region>' : region}:<AWS::AccountId>:${resource}`;
}

/** `<LogicalId.Arn>` / `<LogicalId>` as cdk-nag spells a GetAtt/Ref in a finding id. */
export function nagRef(resource: IConstruct, attribute?: string): string {
  const id = Stack.of(resource).getLogicalId(resource.node.defaultChild as CfnElement);
  return attribute ? `<${id}.${attribute}>` : `<${id}>`;
}
