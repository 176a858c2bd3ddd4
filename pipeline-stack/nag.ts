import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag findings on `scope` and everything below it, one reason per rule id.
 * cdk-nag 3 reads these through CDK's `Validations` metadata; a finding id may name a single
 * finding (`AwsSolutions-IAM5[Resource::*]`), which is preferred over a whole rule.
 */
export function acknowledge(scope: IConstruct, findings: Readonly<Record<string, string>>): void {
  for (const [id, reason] of Object.entries(findings)) {
    Validations.of(scope).acknowledge({ id, reason });
  }
}
