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
