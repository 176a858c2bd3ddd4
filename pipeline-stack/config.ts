import type { IConstruct } from 'constructs';
import * as z from 'zod';
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

// Building blocks of the context schema. Each reads a value as `-c key=value` gives it (a
// string) or as cdk.json gives it (its JSON type); absent (undefined, null or '') takes the
// default. Their messages say what was expected and what was given; ConfigError adds the key
// and how to set it.

const got = (issue: { readonly input?: unknown }) => JSON.stringify(issue.input);
const absent = (value: unknown) => value === undefined || value === null || value === '';

/** A field that may be absent: absent reads as undefined. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (absent(value) ? undefined : value), schema.optional());

/** A field with a default when absent. */
const withDefault = <T extends z.ZodType>(schema: T, fallback: z.input<T>) =>
  z.preprocess((value) => (absent(value) ? fallback : value), schema);

const text = () => z.string({ error: (issue) => `expected a string, got ${got(issue)}` }).trim();

/** A string matching `pattern`; `expected` says what it should look like. */
const matching = (pattern: RegExp, expected: string) =>
  text().regex(pattern, { error: (issue) => `expected ${expected}, got ${got(issue)}` });

/** A whole number from `min` to `max`, given as a number or a string of digits. */
const integer = (min: number, max: number) => {
  const range = {
    error: (issue: { input?: unknown }) =>
      `expected an integer from ${min} to ${max}, got ${issue.input}`,
  };
  return z.preprocess(
    (value) => (typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value),
    z
      .int({ error: (issue) => `expected an integer, got ${got(issue)}` })
      .min(min, range)
      .max(max, range),
  );
};

const boolean = () =>
  z.preprocess(
    (value) => (value === 'true' ? true : value === 'false' ? false : value),
    z.boolean({ error: (issue) => `expected true or false, got ${got(issue)}` }),
  );

const oneOf = <const T extends readonly [string, ...string[]]>(allowed: T) =>
  text().pipe(
    z.enum(allowed, {
      error: (issue) => `expected one of ${allowed.join(', ')}, got ${got(issue)}`,
    }),
  );

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** A list given as a JSON array (cdk.json) or a comma-separated string (`-c key=a,b`). */
const emailList = () =>
  z.preprocess(
    (value) => (absent(value) ? [] : typeof value === 'string' ? value.split(',') : value),
    z
      .array(z.string(), { error: (issue) => `expected a list of strings, got ${got(issue)}` })
      .transform((items) => [
        ...new Set(items.map((item) => item.trim()).filter((item) => item !== '')),
      ])
      .pipe(z.array(matching(EMAIL, 'e-mail addresses'))),
  );

/** An IPv4 CIDR from /16 to /20: the subnet layout needs room for three tiers per AZ. */
const vpcCidr = () =>
  text().refine(
    (value) => {
      const cidr = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
      if (!cidr) return false;
      return (
        cidr.slice(1, 5).every((octet) => Number(octet) <= 255) &&
        Number(cidr[5]) >= 16 &&
        Number(cidr[5]) <= 20
      );
    },
    { error: (issue) => `expected an IPv4 CIDR from /16 to /20, got ${got(issue)}` },
  );

/** An RDS preferred backup window of at least 30 minutes, clear of the maintenance window. */
const backupWindow = () =>
  text().superRefine((value, ctx) => {
    const window = parseDailyWindow(value);
    if (!window || window.end - window.start < 30) {
      ctx.addIssue({
        code: 'custom',
        message: `expected an RDS backup window hh:mm-hh:mm in UTC of at least 30 minutes, got "${value}"`,
      });
    } else if (
      // RDS refuses a backup window that overlaps the maintenance window (sun:04:30-sun:05:30).
      [270, 329].some((t) => insideWindow(t, window)) ||
      insideWindow(window.start, MAINTENANCE)
    ) {
      ctx.addIssue({
        code: 'custom',
        message: `"${value}" overlaps the maintenance window sun:04:30-sun:05:30; choose a window that ends by 04:30 or starts at 05:30 or later`,
      });
    }
  });

/**
 * Every context key the app reads, each checked on its own; the checks that relate two keys
 * (and the defaults that depend on another key) follow in {@link parseConfig}.
 */
export const contextSchema = z.object({
  // Lower case because ECR repository names and RDS identifiers are derived from it.
  prefix: withDefault(
    matching(/^[a-z][a-z0-9-]{1,19}$/, "2-20 lower-case letters, digits or '-'"),
    CONFIG_DEFAULTS.prefix,
  ),
  account: optional(matching(/^\d{12}$/, 'a 12-digit AWS account id')),
  region: optional(matching(/^[a-z]{2}(-[a-z]+)+-\d$/, 'a region name like eu-west-1')),
  azCount: withDefault(integer(2, 3), CONFIG_DEFAULTS.azCount),
  // At most azCount, checked below.
  natGateways: withDefault(integer(1, 3), CONFIG_DEFAULTS.natGateways),
  vpcCidr: withDefault(vpcCidr(), CONFIG_DEFAULTS.vpcCidr),
  desiredCount: withDefault(integer(1, 100), CONFIG_DEFAULTS.desiredCount),
  image: optional(matching(/^\S+$/, 'an image reference without spaces')),
  taskCpu: withDefault(
    integer(256, 4096).refine((cpu) => FARGATE_MEMORY[cpu] !== undefined, {
      error: (issue) => `expected one of 256, 512, 1024, 2048, 4096, got ${issue.input}`,
    }),
    CONFIG_DEFAULTS.taskCpu,
  ),
  // Its default and its Fargate sizes depend on taskCpu, checked below.
  taskMemoryMiB: optional(integer(512, 30720)),
  cpuArchitecture: withDefault(
    // The image is built by Packer's Docker builder on an x86_64 CodeBuild image with no
    // emulation, so an ARM64 task would pull an x86_64 image and exit with "exec format error".
    oneOf(['X86_64', 'ARM64'] as const).refine((arch) => arch === 'X86_64', {
      error: (issue) =>
        `${issue.input} is not supported: the pipeline builds x86_64 images only (CodeBuild LinuxBuildImage.STANDARD_7_0, Packer Docker builder); use X86_64 (the default)`,
    }),
    CONFIG_DEFAULTS.cpuArchitecture,
  ),
  certificateArn: optional(
    matching(
      /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/,
      'an ACM certificate ARN',
    ),
  ),
  domainName: optional(
    matching(/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/, 'a lower-case DNS name'),
  ),
  enableWaf: withDefault(boolean(), CONFIG_DEFAULTS.enableWaf),
  logRetentionDays: withDefault(
    integer(1, 3653).refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
      error: (issue) => `expected one of ${LOG_RETENTION_DAYS.join(', ')}, got ${issue.input}`,
    }),
    CONFIG_DEFAULTS.logRetentionDays,
  ),
  dbInstanceClass: withDefault(
    text()
      .transform((value) => value.replace(/^db\./, '').toLowerCase())
      .pipe(matching(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'an instance class like t4g.small')),
    CONFIG_DEFAULTS.dbInstanceClass,
  ),
  dbAllocatedStorage: withDefault(integer(20, 65536), CONFIG_DEFAULTS.dbAllocatedStorage),
  // Its default and its floor depend on dbAllocatedStorage, checked below.
  dbMaxAllocatedStorage: optional(integer(20, 65536)),
  dbMultiAz: withDefault(boolean(), CONFIG_DEFAULTS.dbMultiAz),
  dbIamAuth: withDefault(boolean(), CONFIG_DEFAULTS.dbIamAuth),
  dbName: withDefault(
    matching(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'a MySQL identifier (letters, digits, _)'),
    CONFIG_DEFAULTS.dbName,
  ),
  dbBackupWindow: withDefault(backupWindow(), CONFIG_DEFAULTS.dbBackupWindow),
  alarmEmail: optional(matching(EMAIL, 'an e-mail address')),
  // CodeCommit repository names: 1-100 of letters, digits, '.', '_', '-'.
  sourceRepositoryName: optional(matching(/^[\w.-]{1,100}$/, 'a CodeCommit repository name')),
  sourceBranch: withDefault(
    matching(/^[\w./-]+$/, 'a branch name').refine((branch) => !branch.includes('..'), {
      error: (issue) => `expected a branch name, got ${got(issue)}`,
    }),
    CONFIG_DEFAULTS.sourceBranch,
  ),
  // The S3 rule matches `<prefix>*.zip` with an EventBridge wildcard, so no '*' in the prefix.
  releasePrefix: withDefault(
    matching(/^[\w!.'()/-]+\/$/, "an S3 key prefix ending in '/', without '*'"),
    CONFIG_DEFAULTS.releasePrefix,
  ),
  notificationEmails: emailList(),
  // Outside dbBackupWindow, checked below.
  verifySchedule: withDefault(
    matching(/^(cron|rate|at)\(.+\)$/, 'a Scheduler expression like cron(17 6 * * ? *)'),
    CONFIG_DEFAULTS.verifySchedule,
  ),
  restoreRtoMinutes: withDefault(integer(1, 24 * 60), CONFIG_DEFAULTS.restoreRtoMinutes),
  releaseVerifyBackup: withDefault(
    oneOf(['off', 'warn', 'block'] as const),
    CONFIG_DEFAULTS.releaseVerifyBackup,
  ),
  // Their sum is capped, checked below.
  keepReleaseSnapshots: withDefault(integer(1, 50), CONFIG_DEFAULTS.keepReleaseSnapshots),
  keepKnownGoodSnapshots: withDefault(integer(0, 20), CONFIG_DEFAULTS.keepKnownGoodSnapshots),
});

type Context = z.output<typeof contextSchema>;

/** The checks that relate two keys, and the defaults that depend on another key. */
function resolveContext(context: Context, env: NodeJS.ProcessEnv, ctx: z.RefinementCtx): AppConfig {
  const fail = (key: keyof Context, message: string) => {
    ctx.issues.push({ code: 'custom', path: [key], message, input: context[key] });
    return z.NEVER;
  };
  const region = context.region ?? env.CDK_DEFAULT_REGION ?? CONFIG_DEFAULTS.region;
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
    return fail('region', `expected a region name like eu-west-1, got "${region}"`);
  if (context.natGateways > context.azCount)
    return fail(
      'natGateways',
      `expected an integer from 1 to ${context.azCount}, got ${context.natGateways}`,
    );
  const memory = FARGATE_MEMORY[context.taskCpu] as { min: number; max: number; step: number };
  const taskMemoryMiB = context.taskMemoryMiB ?? Math.max(memory.min, 1024);
  if (
    taskMemoryMiB < memory.min ||
    taskMemoryMiB > memory.max ||
    (taskMemoryMiB - memory.min) % memory.step !== 0
  )
    return fail(
      'taskMemoryMiB',
      `${taskMemoryMiB} MiB is not a Fargate size for ${context.taskCpu} CPU units (${memory.min}-${memory.max} in steps of ${memory.step})`,
    );
  // The certificate can never match the ALB's generated DNS name, so WordPress would be
  // configured with a URL browsers reject.
  if (context.certificateArn !== undefined && context.domainName === undefined)
    return fail('domainName', 'required when certificateArn is set');
  const dbMaxAllocatedStorage =
    context.dbMaxAllocatedStorage ??
    Math.max(CONFIG_DEFAULTS.dbMaxAllocatedStorage, context.dbAllocatedStorage);
  if (dbMaxAllocatedStorage < context.dbAllocatedStorage)
    return fail(
      'dbMaxAllocatedStorage',
      `must be at least dbAllocatedStorage (${context.dbAllocatedStorage}), got ${dbMaxAllocatedStorage}`,
    );
  const outside = checkScheduleOutsideWindow(
    context.verifySchedule,
    parseDailyWindow(context.dbBackupWindow) as DailyWindow,
  );
  if (!outside.ok)
    return fail(
      'verifySchedule',
      `"${context.verifySchedule}" must start outside the database backup window dbBackupWindow=${context.dbBackupWindow} (UTC), but ${outside.reason}; ` +
        'give a cron(...) expression whose hours and minutes fall outside it, or move dbBackupWindow',
    );
  if (context.keepReleaseSnapshots + context.keepKnownGoodSnapshots > 50)
    // The quota (100 manual snapshots per region by default) is shared with every other
    // manual snapshot in the account and region, final snapshots of deleted stacks included.
    return fail(
      'keepReleaseSnapshots',
      `keepReleaseSnapshots (${context.keepReleaseSnapshots}) + keepKnownGoodSnapshots (${context.keepKnownGoodSnapshots}) must be at most 50, half of the default RDS quota of 100 manual snapshots per region`,
    );
  return {
    ...context,
    region,
    azCount: context.azCount as 2 | 3,
    taskMemoryMiB,
    dbMaxAllocatedStorage,
  };
}

/**
 * Pure parser behind {@link loadConfig}: reads every key of {@link contextSchema} through
 * `lookup` and throws a ConfigError naming the first key that is wrong, what is wrong with it
 * and how to set it. Context values given with `-c key=value` arrive as strings, values from
 * cdk.json keep their JSON type, so both are accepted.
 */
export function parseConfig(lookup: Lookup, env: NodeJS.ProcessEnv = {}): AppConfig {
  const context = Object.fromEntries(
    Object.keys(contextSchema.shape).map((key) => [key, lookup(key)]),
  );
  const parsed = contextSchema
    .transform((fields, ctx) => resolveContext(fields, env, ctx))
    .safeParse(context);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ConfigError(String(issue?.path[0] ?? '(context)'), issue?.message ?? 'is invalid');
}
