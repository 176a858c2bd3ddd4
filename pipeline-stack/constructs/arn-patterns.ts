import { ArnFormat, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { nagArn } from './nag-ids.ts';

/** An ARN of this stack's account and region with a wildcard in its resource name. */
export interface ArnPattern {
  readonly service: string;
  readonly resource: string;
  readonly resourceName: string;
  readonly arnFormat: ArnFormat.SLASH_RESOURCE_NAME | ArnFormat.COLON_RESOURCE_NAME;
}

/**
 * Every task of a cluster (the ecs:cluster condition says which): `task/*`, never
 * `task/<cluster name>/*`, because the cluster lives in the application stack and a cross-stack
 * name inside a wildcard ARN cannot be named in a cdk-nag acknowledgement before synthesis.
 */
export const CLUSTER_TASKS: ArnPattern = {
  service: 'ecs',
  resource: 'task',
  resourceName: '*',
  arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
};

/** An RDS resource (`db`, `snapshot`, `subgrp`, `og`, `pg`) by name or name pattern. */
export function rdsPattern(resource: string, resourceName: string): ArnPattern {
  return { service: 'rds', resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME };
}

/**
 * The scratch instances of a prefix, `<prefix>*-scratch-*` in lower case: the shape of
 * scratchInstanceId (functions/commons/verify-scratch.ts), which RDS stores lower-cased.
 */
export function scratchInstances(prefix: string): ArnPattern {
  return rdsPattern('db', `${prefix.toLowerCase()}*-scratch-*`);
}

/** The pattern as an ARN of `scope`'s stack. */
export function patternArn(scope: IConstruct, pattern: ArnPattern): string {
  return Stack.of(scope).formatArn(pattern);
}

/** The cdk-nag finding id of the wildcard in `pattern` (`AwsSolutions-IAM5[Resource::arn:…]`). */
export function patternFinding(scope: IConstruct, pattern: ArnPattern): string {
  const separator = pattern.arnFormat === ArnFormat.COLON_RESOURCE_NAME ? ':' : '/';
  return `AwsSolutions-IAM5[Resource::${nagArn(scope, pattern.service, `${pattern.resource}${separator}${pattern.resourceName}`)}]`;
}
