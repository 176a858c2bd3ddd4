import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import type { Construct } from 'constructs';

/**
 * The ECR repository the image builds push to and every task-definition revision pulls from,
 * created in `scope` as `Repository` (see Network for why no Construct node of its own).
 */
export function imageRepository(scope: Construct): ecr.Repository {
  // No fixed name: a name CloudFormation generates can never collide with a repository an
  // earlier, rolled-back or deleted stack left behind ("already exists").
  return new ecr.Repository(scope, 'Repository', {
    imageScanOnPush: true,
    imageTagMutability: ecr.TagMutability.IMMUTABLE,
    encryption: ecr.RepositoryEncryption.AES_256,
    // Images outlive the stack: a task definition revision the pipeline may roll back to
    // must still be pullable. Except when the create itself rolls back: the new, empty
    // repository goes with it (CloudFormation RetainExceptOnCreate).
    removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    lifecycleRules: [
      {
        rulePriority: 1,
        description: 'Drop untagged layers left by interrupted pushes',
        tagStatus: ecr.TagStatus.UNTAGGED,
        maxImageAge: Duration.days(7),
      },
      {
        rulePriority: 2,
        // Generous on purpose: the last known-good revision is always among these.
        description: 'Keep the 50 most recent release images',
        tagStatus: ecr.TagStatus.ANY,
        maxImageCount: 50,
      },
    ],
  });
}
