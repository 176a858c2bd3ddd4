import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { AppConfig } from '../config.ts';
import { acknowledge } from '../nag.ts';

/** MySQL engine of the database (and of every scratch restore). */
export const MYSQL_VERSION = rds.MysqlEngineVersion.VER_8_4_7;

/**
 * Performance Insights is not offered on the smallest burstable classes
 * (micro/small of t2/t3/t4g) for MySQL.
 */
export function supportsPerformanceInsights(instanceClass: string): boolean {
  return !/^t[234]g?\.(micro|small)$/.test(instanceClass);
}

/** Props of {@link Database}. */
export interface DatabaseProps {
  readonly config: Pick<
    AppConfig,
    | 'prefix'
    | 'dbName'
    | 'dbInstanceClass'
    | 'dbAllocatedStorage'
    | 'dbMaxAllocatedStorage'
    | 'dbMultiAz'
    | 'dbIamAuth'
    | 'dbBackupWindow'
  >;
  readonly vpc: ec2.IVpc;
  readonly securityGroup: ec2.ISecurityGroup;
  /** Retention of the error and slow-query logs. */
  readonly retention: logs.RetentionDays;
}

/**
 * RDS MySQL in the isolated subnets: encrypted, deletion-protected, snapshotted on removal,
 * its login generated into Secrets Manager and its logs in groups made up front. Created in
 * `scope` under the ids it always had (see Network for why no Construct node of its own).
 */
export class Database {
  readonly instance: rds.DatabaseInstance;
  /** The generated login (`username`, `password`, host, port). */
  readonly secret: secretsmanager.ISecret;

  constructor(scope: Construct, props: DatabaseProps) {
    const { config } = props;
    const instanceIdentifier = `${config.prefix}-wordpress`;
    const logExports = ['error', 'slowquery'];
    // Created up front (RDS writes into existing groups) so retention is set without the
    // LogRetention custom resource and its extra Lambda. RDS fixes their names, so a failed
    // create must not leave them behind: RetainExceptOnCreate deletes them on its rollback.
    const logGroups = logExports.map(
      (name) =>
        new logs.LogGroup(scope, `DatabaseLog-${name}`, {
          logGroupName: `/aws/rds/instance/${instanceIdentifier}/${name}`,
          retention: props.retention,
          removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        }),
    );
    const instance = new rds.DatabaseInstance(scope, 'Database', {
      instanceIdentifier,
      engine: rds.DatabaseInstanceEngine.mysql({ version: MYSQL_VERSION }),
      instanceType: new ec2.InstanceType(config.dbInstanceClass),
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [props.securityGroup],
      publiclyAccessible: false,
      credentials: rds.Credentials.fromGeneratedSecret('wordpress', {
        secretName: `${config.prefix}/database`,
        // Characters that need escaping in a DSN, a shell or a PHP string literal.
        excludeCharacters: ' %+~`#$&*()|[]{}:;<>?!\'/@"\\',
      }),
      databaseName: config.dbName,
      storageEncrypted: true,
      storageType: rds.StorageType.GP3,
      allocatedStorage: config.dbAllocatedStorage,
      maxAllocatedStorage: config.dbMaxAllocatedStorage,
      multiAz: config.dbMultiAz,
      iamAuthentication: config.dbIamAuth,
      deletionProtection: true,
      backupRetention: Duration.days(7),
      preferredBackupWindow: config.dbBackupWindow,
      preferredMaintenanceWindow: 'sun:04:30-sun:05:30',
      copyTagsToSnapshot: true,
      autoMinorVersionUpgrade: true,
      cloudwatchLogsExports: logExports,
      enablePerformanceInsights: supportsPerformanceInsights(config.dbInstanceClass),
      removalPolicy: RemovalPolicy.SNAPSHOT,
    });
    for (const logGroup of logGroups) instance.node.addDependency(logGroup);
    if (!instance.secret) throw new Error('generated credentials always produce a secret');
    this.instance = instance;
    this.secret = instance.secret;

    // On the instance: its secret construct sits below it (instance.secret is the attachment).
    acknowledge(instance, {
      'AwsSolutions-SMG4':
        'ECS injects the password only at task start, so rotating it would break running ' +
        'tasks; rotate by updating the secret and releasing (new tasks read the new value).',
    });
    acknowledge(instance, {
      'AwsSolutions-RDS11':
        'The default MySQL port is kept: the security group admits only the service and the ' +
        'verifier, and a non-standard port adds no protection behind that.',
      ...(config.dbMultiAz
        ? {}
        : {
            'AwsSolutions-RDS3':
              'Single-AZ by default for cost (dbMultiAz=true enables a standby); recovery is ' +
              'by verified snapshot restore.',
          }),
    });
  }
}
