import type { IConstruct } from 'constructs';
import {
  checkScheduleOutsideWindow,
  type DailyWindow,
  insideWindow,
  parseDailyWindow,
} from './schedule-window.ts';

/** The RDS maintenance window application-stack.ts sets (sun:04:30-sun:05:30), as a daily span. */
const MAINTENANCE: DailyWindow = { start: 270, end: 330, text: '04:30-05:30' };

/** Log retention periods CloudWatch Logs accepts (days). */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

/** Fargate CPU units and the memory sizes (MiB) each one accepts. */
const FARGATE_MEMORY: Readonly<Record<number, { min: number; max: number; step: number }>> = {
  256: { min: 512, max: 2048, step: 512 },
  512: { min: 1024, max: 4096, step: 1024 },
  1024: { min: 2048, max: 8192, step: 1024 },
  2048: { min: 4096, max: 16384, step: 1024 },
  4096: { min: 8192, max: 30720, step: 1024 },
};

/** Typed configuration of the CDK app; every field has a default except the optional ones. */
export interface AppConfig {
  /** Name prefix for physical names (ECR repository, task family, DB identifier). */
  readonly prefix: string;
  /** Target account; undefined keeps the stacks account-agnostic. */
  readonly account?: string;
  /** Target region; concrete because ALB access logs need the region's ELB log-delivery principal. */
  readonly region: string;
  /** Availability zones the VPC spans (2 or 3). */
  readonly azCount: 2 | 3;
  /** NAT gateways (1 for cost; azCount for zone-independent egress). */
  readonly natGateways: number;
  /** VPC CIDR block. */
  readonly vpcCidr: string;
  /** Tasks the service keeps running; every release's DeployService sets it. */
  readonly desiredCount: number;
  /**
   * Image of the application stack's own task-definition revision. Unset on the first deploy
   * (nothing is built yet: the repository is created by the same stack): the revision then
   * names `<repository>:bootstrap`, which is never pulled, because the service starts at zero
   * tasks and the first release sets the desired count. Set it on later deploys that change
   * the task definition to the image of the current release (`stepdeploy history`).
   */
  readonly image?: string;
  /** Fargate task CPU units. */
  readonly taskCpu: number;
  /** Fargate task memory (MiB). */
  readonly taskMemoryMiB: number;
  /** CPU architecture of the image the pipeline builds. */
  readonly cpuArchitecture: 'X86_64' | 'ARM64';
  /** ACM certificate for the HTTPS listener; without it the ALB serves plain HTTP. */
  readonly certificateArn?: string;
  /** DNS name the certificate covers and WordPress is served on (required with certificateArn). */
  readonly domainName?: string;
  /** Attach a WAFv2 web ACL with the AWS managed core, PHP and WordPress rule sets. */
  readonly enableWaf: boolean;
  /** Retention of every log group the stack creates (days). */
  readonly logRetentionDays: number;
  /** RDS instance class without the `db.` prefix, e.g. `t4g.small`. */
  readonly dbInstanceClass: string;
  /** Initial RDS storage (GiB). */
  readonly dbAllocatedStorage: number;
  /** Storage autoscaling ceiling (GiB). */
  readonly dbMaxAllocatedStorage: number;
  /** Standby replica in a second AZ. */
  readonly dbMultiAz: boolean;
  /** Enable IAM database authentication (in addition to the generated password). */
  readonly dbIamAuth: boolean;
  /** Schema WordPress uses. */
  readonly dbName: string;
  /**
   * RDS preferred backup window, `hh:mm-hh:mm` UTC (at least 30 minutes). CreateDBSnapshot
   * fails with InvalidDBInstanceState while the instance is `backing-up`, so the verification
   * schedule must start outside it.
   */
  readonly dbBackupWindow: string;
  /** Address subscribed to the operational alarms topic, if any. */
  readonly alarmEmail?: string;
  /**
   * An existing CodeCommit repository to build from, by name; without it the pipeline stack
   * creates `<prefix>-source`.
   */
  readonly sourceRepositoryName?: string;
  /** Branch whose pushes start releases. */
  readonly sourceBranch: string;
  /** Key prefix in the source bucket under which an uploaded `*.zip` starts a release. */
  readonly releasePrefix: string;
  /** Addresses subscribed by email to the release notifications topic (comma-separated in context). */
  readonly notificationEmails: readonly string[];
  /** EventBridge Scheduler expression of the backup restore verification. */
  readonly verifySchedule: string;
  /** Alarm when a verification restore takes longer than this many minutes (the RTO). */
  readonly restoreRtoMinutes: number;
  /**
   * Whether a release verifies its pre-deploy snapshot with a nested verify-restore execution
   * (in parallel with the build): `off`, `warn` (the release carries on and the notification
   * carries the warning) or `block` (a failed verification fails the release before deploy).
   */
  readonly releaseVerifyBackup: 'off' | 'warn' | 'block';
  /**
   * Release snapshots kept after a successful release: the newest this many (the release's own
   * included)...
   */
  readonly keepReleaseSnapshots: number;
  /** ...plus those of the last this many SUCCEEDED releases; PruneSnapshots deletes the rest. */
  readonly keepKnownGoodSnapshots: number;
}

/** Raised when a context value is missing its expected shape; names the offending key. */
export class ConfigError extends Error {
  constructor(
    public readonly key: string,
    message: string,
  ) {
    super(`Invalid config '${key}': ${message} (set it with -c ${key}=... or in cdk.json context)`);
    this.name = 'ConfigError';
  }
}

/** Defaults applied when a key is absent from the CDK context. */
export const CONFIG_DEFAULTS = {
  prefix: 'stepdeploy',
  region: 'us-east-1',
  azCount: 2,
  natGateways: 1,
  vpcCidr: '10.40.0.0/16',
  desiredCount: 2,
  taskCpu: 512,
  taskMemoryMiB: 1024,
  cpuArchitecture: 'X86_64',
  enableWaf: false,
  logRetentionDays: 30,
  dbInstanceClass: 't4g.small',
  dbAllocatedStorage: 20,
  dbMaxAllocatedStorage: 100,
  dbMultiAz: false,
  dbIamAuth: false,
  dbName: 'wordpress',
  dbBackupWindow: '03:00-04:00',
  sourceBranch: 'main',
  releasePrefix: 'releases/',
  // Daily at 06:17 UTC: after the 03:00-04:00 backup window (so the newest automated snapshot
  // is ready and the instance is not backing-up) and the Sunday 04:30-05:30 maintenance window,
  // off the hour and away from everyone else's jobs.
  verifySchedule: 'cron(17 6 * * ? *)',
  restoreRtoMinutes: 45,
  // Off by default: a nested verification adds an RDS restore (typically 10-30 min, longer than
  // the build) and a scratch instance to every release, and the daily schedule already verifies
  // the backups. Opt in with warn, or block once the manifest caveat (docs/release.md) is acceptable.
  releaseVerifyBackup: 'off',
  // 10 + 3 of the 100 manual snapshots RDS allows per region by default.
  keepReleaseSnapshots: 10,
  keepKnownGoodSnapshots: 3,
} as const satisfies Partial<AppConfig>;

type Lookup = (key: string) => unknown;

/** Reads and validates the config from the CDK context of `scope` (usually the App). */
export function loadConfig(scope: IConstruct, env: NodeJS.ProcessEnv = process.env): AppConfig {
  return parseConfig((key) => scope.node.tryGetContext(key), env);
}

/**
 * Pure parser behind {@link loadConfig}. Context values given with `-c key=value` arrive as
 * strings, values from cdk.json keep their JSON type, so both are accepted.
 */
export function parseConfig(lookup: Lookup, env: NodeJS.ProcessEnv = {}): AppConfig {
  const prefix = readString(lookup, 'prefix', CONFIG_DEFAULTS.prefix);
  // Lower case because ECR repository names and RDS identifiers are derived from it.
  if (!/^[a-z][a-z0-9-]{1,19}$/.test(prefix)) {
    throw new ConfigError(
      'prefix',
      `expected 2-20 lower-case letters, digits or '-', got "${prefix}"`,
    );
  }

  const account = readOptionalString(lookup, 'account');
  if (account !== undefined && !/^\d{12}$/.test(account)) {
    throw new ConfigError('account', `expected a 12-digit AWS account id, got "${account}"`);
  }
  const region = readString(lookup, 'region', env.CDK_DEFAULT_REGION ?? CONFIG_DEFAULTS.region);
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) {
    throw new ConfigError('region', `expected a region name like eu-west-1, got "${region}"`);
  }

  const azCount = readInt(lookup, 'azCount', CONFIG_DEFAULTS.azCount, 2, 3) as 2 | 3;
  const natGateways = readInt(lookup, 'natGateways', CONFIG_DEFAULTS.natGateways, 1, azCount);
  const vpcCidr = readString(lookup, 'vpcCidr', CONFIG_DEFAULTS.vpcCidr);
  const cidr = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(vpcCidr);
  // The subnet layout needs a /16..../20 block: three tiers per AZ.
  if (
    !cidr ||
    cidr.slice(1, 5).some((octet) => Number(octet) > 255) ||
    Number(cidr[5]) < 16 ||
    Number(cidr[5]) > 20
  ) {
    throw new ConfigError('vpcCidr', `expected an IPv4 CIDR from /16 to /20, got "${vpcCidr}"`);
  }

  const desiredCount = readInt(lookup, 'desiredCount', CONFIG_DEFAULTS.desiredCount, 1, 100);
  const image = readOptionalString(lookup, 'image');
  if (image !== undefined && /\s/.test(image)) {
    throw new ConfigError('image', `expected an image reference without spaces, got "${image}"`);
  }

  const taskCpu = readInt(lookup, 'taskCpu', CONFIG_DEFAULTS.taskCpu, 256, 4096);
  const memory = FARGATE_MEMORY[taskCpu];
  if (!memory) {
    throw new ConfigError('taskCpu', `expected one of 256, 512, 1024, 2048, 4096, got ${taskCpu}`);
  }
  const taskMemoryMiB = readInt(lookup, 'taskMemoryMiB', Math.max(memory.min, 1024), 512, 30720);
  if (
    taskMemoryMiB < memory.min ||
    taskMemoryMiB > memory.max ||
    (taskMemoryMiB - memory.min) % memory.step !== 0
  ) {
    throw new ConfigError(
      'taskMemoryMiB',
      `${taskMemoryMiB} MiB is not a Fargate size for ${taskCpu} CPU units (${memory.min}-${memory.max} in steps of ${memory.step})`,
    );
  }
  const cpuArchitecture = readEnum(lookup, 'cpuArchitecture', CONFIG_DEFAULTS.cpuArchitecture, [
    'X86_64',
    'ARM64',
  ] as const);
  if (cpuArchitecture !== 'X86_64') {
    // The image is built by Packer's Docker builder on an x86_64 CodeBuild image with no
    // emulation, so an ARM64 task would pull an x86_64 image and exit with "exec format error".
    throw new ConfigError(
      'cpuArchitecture',
      `${cpuArchitecture} is not supported: the pipeline builds x86_64 images only (CodeBuild LinuxBuildImage.STANDARD_7_0, Packer Docker builder); use X86_64 (the default)`,
    );
  }

  const certificateArn = readOptionalString(lookup, 'certificateArn');
  if (
    certificateArn !== undefined &&
    !/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/.test(certificateArn)
  ) {
    throw new ConfigError(
      'certificateArn',
      `expected an ACM certificate ARN, got "${certificateArn}"`,
    );
  }
  const domainName = readOptionalString(lookup, 'domainName');
  if (
    domainName !== undefined &&
    !/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/.test(domainName)
  ) {
    throw new ConfigError('domainName', `expected a lower-case DNS name, got "${domainName}"`);
  }
  if (certificateArn !== undefined && domainName === undefined) {
    // The certificate can never match the ALB's generated DNS name, so WordPress would be
    // configured with a URL browsers reject.
    throw new ConfigError('domainName', 'required when certificateArn is set');
  }

  const enableWaf = readBool(lookup, 'enableWaf', CONFIG_DEFAULTS.enableWaf);
  const logRetentionDays = readInt(
    lookup,
    'logRetentionDays',
    CONFIG_DEFAULTS.logRetentionDays,
    1,
    3653,
  );
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(logRetentionDays)) {
    throw new ConfigError(
      'logRetentionDays',
      `expected one of ${LOG_RETENTION_DAYS.join(', ')}, got ${logRetentionDays}`,
    );
  }

  const dbInstanceClass = readString(lookup, 'dbInstanceClass', CONFIG_DEFAULTS.dbInstanceClass)
    .replace(/^db\./, '')
    .toLowerCase();
  if (!/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(dbInstanceClass)) {
    throw new ConfigError(
      'dbInstanceClass',
      `expected an instance class like t4g.small, got "${dbInstanceClass}"`,
    );
  }
  const dbAllocatedStorage = readInt(
    lookup,
    'dbAllocatedStorage',
    CONFIG_DEFAULTS.dbAllocatedStorage,
    20,
    65536,
  );
  const dbMaxAllocatedStorage = readInt(
    lookup,
    'dbMaxAllocatedStorage',
    Math.max(CONFIG_DEFAULTS.dbMaxAllocatedStorage, dbAllocatedStorage),
    20,
    65536,
  );
  if (dbMaxAllocatedStorage < dbAllocatedStorage) {
    throw new ConfigError(
      'dbMaxAllocatedStorage',
      `must be at least dbAllocatedStorage (${dbAllocatedStorage}), got ${dbMaxAllocatedStorage}`,
    );
  }
  const dbMultiAz = readBool(lookup, 'dbMultiAz', CONFIG_DEFAULTS.dbMultiAz);
  const dbIamAuth = readBool(lookup, 'dbIamAuth', CONFIG_DEFAULTS.dbIamAuth);
  const dbName = readString(lookup, 'dbName', CONFIG_DEFAULTS.dbName);
  if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(dbName)) {
    throw new ConfigError(
      'dbName',
      `expected a MySQL identifier (letters, digits, _), got "${dbName}"`,
    );
  }

  const dbBackupWindow = readString(lookup, 'dbBackupWindow', CONFIG_DEFAULTS.dbBackupWindow);
  const backupWindow = parseDailyWindow(dbBackupWindow);
  if (!backupWindow || backupWindow.end - backupWindow.start < 30) {
    throw new ConfigError(
      'dbBackupWindow',
      `expected an RDS backup window hh:mm-hh:mm in UTC of at least 30 minutes, got "${dbBackupWindow}"`,
    );
  }
  // RDS refuses a backup window that overlaps the maintenance window (sun:04:30-sun:05:30).
  if (
    [270, 329].some((t) => insideWindow(t, backupWindow)) ||
    insideWindow(backupWindow.start, MAINTENANCE)
  ) {
    throw new ConfigError(
      'dbBackupWindow',
      `"${dbBackupWindow}" overlaps the maintenance window sun:04:30-sun:05:30; choose a window that ends by 04:30 or starts at 05:30 or later`,
    );
  }

  const alarmEmail = readOptionalString(lookup, 'alarmEmail');
  if (alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) {
    throw new ConfigError('alarmEmail', `expected an e-mail address, got "${alarmEmail}"`);
  }

  const sourceRepositoryName = readOptionalString(lookup, 'sourceRepositoryName');
  // CodeCommit repository names: 1-100 of letters, digits, '.', '_', '-'.
  if (sourceRepositoryName !== undefined && !/^[\w.-]{1,100}$/.test(sourceRepositoryName)) {
    throw new ConfigError(
      'sourceRepositoryName',
      `expected a CodeCommit repository name, got "${sourceRepositoryName}"`,
    );
  }
  const sourceBranch = readString(lookup, 'sourceBranch', CONFIG_DEFAULTS.sourceBranch);
  if (!/^[\w./-]+$/.test(sourceBranch) || sourceBranch.includes('..')) {
    throw new ConfigError('sourceBranch', `expected a branch name, got "${sourceBranch}"`);
  }
  const releasePrefix = readString(lookup, 'releasePrefix', CONFIG_DEFAULTS.releasePrefix);
  // The S3 rule matches `<prefix>*.zip` with an EventBridge wildcard, so no '*' in the prefix.
  if (!/^[\w!.'()/-]+\/$/.test(releasePrefix)) {
    throw new ConfigError(
      'releasePrefix',
      `expected an S3 key prefix ending in '/', without '*', got "${releasePrefix}"`,
    );
  }
  const notificationEmails = readList(lookup, 'notificationEmails');
  for (const address of notificationEmails) {
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address)) {
      throw new ConfigError('notificationEmails', `expected e-mail addresses, got "${address}"`);
    }
  }
  const verifySchedule = readString(lookup, 'verifySchedule', CONFIG_DEFAULTS.verifySchedule);
  if (!/^(cron|rate|at)\(.+\)$/.test(verifySchedule)) {
    throw new ConfigError(
      'verifySchedule',
      `expected a Scheduler expression like cron(17 6 * * ? *), got "${verifySchedule}"`,
    );
  }
  const outside = checkScheduleOutsideWindow(verifySchedule, backupWindow);
  if (!outside.ok) {
    throw new ConfigError(
      'verifySchedule',
      `"${verifySchedule}" must start outside the database backup window dbBackupWindow=${dbBackupWindow} (UTC), but ${outside.reason}; ` +
        'give a cron(...) expression whose hours and minutes fall outside it, or move dbBackupWindow',
    );
  }
  const restoreRtoMinutes = readInt(
    lookup,
    'restoreRtoMinutes',
    CONFIG_DEFAULTS.restoreRtoMinutes,
    1,
    24 * 60,
  );
  const releaseVerifyBackup = readEnum(
    lookup,
    'releaseVerifyBackup',
    CONFIG_DEFAULTS.releaseVerifyBackup as AppConfig['releaseVerifyBackup'],
    ['off', 'warn', 'block'] as const,
  );
  const keepReleaseSnapshots = readInt(
    lookup,
    'keepReleaseSnapshots',
    CONFIG_DEFAULTS.keepReleaseSnapshots,
    1,
    50,
  );
  const keepKnownGoodSnapshots = readInt(
    lookup,
    'keepKnownGoodSnapshots',
    CONFIG_DEFAULTS.keepKnownGoodSnapshots,
    0,
    20,
  );
  if (keepReleaseSnapshots + keepKnownGoodSnapshots > 50) {
    // The quota (100 manual snapshots per region by default) is shared with every other
    // manual snapshot in the account and region, final snapshots of deleted stacks included.
    throw new ConfigError(
      'keepReleaseSnapshots',
      `keepReleaseSnapshots (${keepReleaseSnapshots}) + keepKnownGoodSnapshots (${keepKnownGoodSnapshots}) must be at most 50, half of the default RDS quota of 100 manual snapshots per region`,
    );
  }

  return {
    prefix,
    account,
    region,
    azCount,
    natGateways,
    vpcCidr,
    desiredCount,
    image,
    taskCpu,
    taskMemoryMiB,
    cpuArchitecture,
    certificateArn,
    domainName,
    enableWaf,
    logRetentionDays,
    dbInstanceClass,
    dbAllocatedStorage,
    dbMaxAllocatedStorage,
    dbMultiAz,
    dbIamAuth,
    dbName,
    dbBackupWindow,
    alarmEmail,
    sourceRepositoryName,
    sourceBranch,
    releasePrefix,
    notificationEmails,
    verifySchedule,
    restoreRtoMinutes,
    releaseVerifyBackup,
    keepReleaseSnapshots,
    keepKnownGoodSnapshots,
  };
}

/** A list given as a JSON array (cdk.json) or a comma-separated string (`-c key=a,b`). */
function readList(lookup: Lookup, key: string): string[] {
  const value = lookup(key);
  if (value === undefined || value === null || value === '') return [];
  const items = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(items) || items.some((item) => typeof item !== 'string')) {
    throw new ConfigError(key, `expected a list of strings, got ${JSON.stringify(value)}`);
  }
  return [...new Set(items.map((item: string) => item.trim()).filter((item) => item !== ''))];
}

function readOptionalString(lookup: Lookup, key: string): string | undefined {
  const value = lookup(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new ConfigError(key, `expected a string, got ${JSON.stringify(value)}`);
  }
  return value.trim();
}

function readString(lookup: Lookup, key: string, fallback: string): string {
  return readOptionalString(lookup, key) ?? fallback;
}

function readInt(lookup: Lookup, key: string, fallback: number, min: number, max: number): number {
  const value = lookup(key);
  if (value === undefined || value === null || value === '') return fallback;
  const parsed = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof parsed !== 'number' || !Number.isInteger(parsed)) {
    throw new ConfigError(key, `expected an integer, got ${JSON.stringify(value)}`);
  }
  if (parsed < min || parsed > max) {
    throw new ConfigError(key, `expected an integer from ${min} to ${max}, got ${parsed}`);
  }
  return parsed;
}

function readBool(lookup: Lookup, key: string, fallback: boolean): boolean {
  const value = lookup(key);
  if (value === undefined || value === null || value === '') return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new ConfigError(key, `expected true or false, got ${JSON.stringify(value)}`);
}

function readEnum<T extends string>(
  lookup: Lookup,
  key: string,
  fallback: T,
  allowed: readonly T[],
): T {
  const value = readOptionalString(lookup, key) ?? fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(key, `expected one of ${allowed.join(', ')}, got "${value}"`);
  }
  return value as T;
}
