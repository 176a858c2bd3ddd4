import type { RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import { NamedError } from '#commons/errors.ts';
import { type CfnTemplate, type ResolveHooks, resolveTemplateValue } from './template.ts';

/**
 * Reading the synthesized application stack for local mode: its task definition (converted to
 * the ECS SDK's RegisterTaskDefinition shape with intrinsics resolved to the local stack), its
 * target group and service (health check settings, deregistration delay, grace period), and
 * its EFS access points. Everything here is pure: templates in, values out.
 */

/** The synthesized app lacks a part local mode reads, or holds one it cannot play. */
export class ApplicationTemplateError extends NamedError {
  override readonly name = 'ApplicationTemplateError';
}

type Resource = { Type: string; Properties?: Record<string, unknown> };

/** The application stack's resources local mode runs, by logical id. */
export interface ApplicationTemplate {
  readonly templates: Readonly<Record<string, CfnTemplate>>;
  /** Stack name (key in `templates`). */
  readonly stack: string;
  readonly service: { readonly logicalId: string; readonly properties: Record<string, unknown> };
  readonly taskDefinition: {
    readonly logicalId: string;
    readonly properties: Record<string, unknown>;
  };
  readonly targetGroup: {
    readonly logicalId: string;
    readonly properties: Record<string, unknown>;
  };
}

const refOf = (v: unknown): string | undefined =>
  v && typeof v === 'object' && typeof (v as { Ref?: unknown }).Ref === 'string'
    ? (v as { Ref: string }).Ref
    : undefined;

/**
 * The stack holding the ECS service behind a load balancer, with the task definition and
 * target group that service names. Pure.
 */
export function applicationFromTemplates(
  templates: Readonly<Record<string, CfnTemplate>>,
): ApplicationTemplate {
  for (const [stack, template] of Object.entries(templates)) {
    const resources = (template.Resources ?? {}) as Record<string, Resource>;
    for (const [serviceId, service] of Object.entries(resources)) {
      if (service.Type !== 'AWS::ECS::Service') continue;
      const props = service.Properties ?? {};
      const tdId = refOf(props.TaskDefinition);
      const lbs = (props.LoadBalancers ?? []) as Record<string, unknown>[];
      const tgId = refOf(lbs[0]?.TargetGroupArn);
      const td = tdId ? resources[tdId] : undefined;
      const tg = tgId ? resources[tgId] : undefined;
      if (!tdId || td?.Type !== 'AWS::ECS::TaskDefinition')
        throw new ApplicationTemplateError(
          `service ${serviceId} in ${stack} names no task definition of this stack (TaskDefinition must be a Ref)`,
        );
      if (!tgId || tg?.Type !== 'AWS::ElasticLoadBalancingV2::TargetGroup')
        throw new ApplicationTemplateError(
          `service ${serviceId} in ${stack} is behind no target group of this stack (LoadBalancers[0].TargetGroupArn must be a Ref)`,
        );
      if (lbs.length > 1)
        throw new ApplicationTemplateError(
          `service ${serviceId} is registered with ${lbs.length} target groups; local mode plays one HAProxy backend`,
        );
      return {
        templates,
        stack,
        service: { logicalId: serviceId, properties: props },
        taskDefinition: { logicalId: tdId, properties: td.Properties ?? {} },
        targetGroup: { logicalId: tgId, properties: tg.Properties ?? {} },
      };
    }
  }
  throw new ApplicationTemplateError(
    `no stack of the synthesized app (${Object.keys(templates).join(', ')}) holds an ECS service`,
  );
}

// ---------------------------------------------------------------------------------------------
// Target group and service

/** The synthesized target group's and service's settings as local mode applies them. */
export interface TargetGroupSettings {
  readonly healthCheck: {
    readonly path: string;
    readonly intervalMs: number;
    readonly timeoutMs: number;
    readonly rise: number;
    readonly fall: number;
    /** The service's HealthCheckGracePeriodSeconds. */
    readonly startGraceMs: number;
    /** Matcher.HttpCode, ALB syntax (`200`, `200,302`, `200-299`). */
    readonly matcher: string;
  };
  /** deregistration_delay.timeout_seconds: how long a draining target may keep requests. */
  readonly deregistrationDelayMs: number;
  /** slow_start.duration_seconds: how long a new healthy target's share of requests ramps up. */
  readonly slowStartMs: number;
  /** load_balancing.algorithm.type as HAProxy's `balance` (see {@link HAPROXY_BALANCE}). */
  readonly balance: HaproxyBalance;
  /** The factor the timings above were scaled by. */
  readonly timeFactor: number;
  /** The template's values, unscaled, for reports (seconds and counts as in CloudFormation). */
  readonly aws: {
    readonly intervalSeconds: number;
    readonly timeoutSeconds: number;
    readonly healthyThreshold: number;
    readonly unhealthyThreshold: number;
    readonly deregistrationDelaySeconds: number;
    readonly slowStartSeconds: number;
    readonly healthCheckGracePeriodSeconds: number;
  };
  /** Fields of the target group or service local mode does not honour, one line each. */
  readonly notHonoured: readonly string[];
}

/** Scales seconds by the time factor into whole milliseconds (at least 1). Pure. */
export function scaledMs(seconds: number, timeFactor: number): number {
  return Math.max(1, Math.round(seconds * 1000 * timeFactor));
}

const num = (v: unknown, fallback: number): number => {
  if (v === undefined || v === null || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n))
    throw new ApplicationTemplateError(`expected a number, got ${String(v)}`);
  return n;
};

// ELBv2 defaults for an HTTP target group when the template leaves a field out.
const ALB_DEFAULTS = {
  HealthCheckPath: '/',
  HealthCheckIntervalSeconds: 30,
  HealthCheckTimeoutSeconds: 5,
  HealthyThresholdCount: 5,
  UnhealthyThresholdCount: 2,
  Matcher: '200',
  DeregistrationDelaySeconds: 300,
} as const;

// Target-group attributes and what local mode does with them.
const HONOURED_ATTRIBUTES = new Set([
  'deregistration_delay.timeout_seconds',
  'slow_start.duration_seconds',
  'load_balancing.algorithm.type',
]);
const DEFAULT_ATTRIBUTE_VALUES: Record<string, string> = {
  'stickiness.enabled': 'false',
};

/**
 * The ALB routing algorithms as HAProxy plays them: least outstanding requests is HAProxy's
 * leastconn (in HTTP mode it counts the requests a server is serving), weighted random its
 * random. The ALB's anomaly mitigation has no HAProxy counterpart (refused below).
 */
export const HAPROXY_BALANCE = {
  round_robin: 'roundrobin',
  least_outstanding_requests: 'leastconn',
  weighted_random: 'random',
} as const;
/** A `balance` algorithm of the local load balancer. */
export type HaproxyBalance = (typeof HAPROXY_BALANCE)[keyof typeof HAPROXY_BALANCE];

/** The HAProxy `balance` for a target group's load_balancing.algorithm.type. Pure. */
export function haproxyBalance(algorithm: string | undefined): HaproxyBalance {
  if (algorithm === undefined) return HAPROXY_BALANCE.round_robin;
  if (Object.hasOwn(HAPROXY_BALANCE, algorithm))
    return HAPROXY_BALANCE[algorithm as keyof typeof HAPROXY_BALANCE];
  throw new ApplicationTemplateError(
    `TargetGroupAttributes load_balancing.algorithm.type must be one of ${Object.keys(HAPROXY_BALANCE).join(', ')}, got ${algorithm}`,
  );
}

/**
 * HAProxy's health check, the deregistration delay and the start grace from the synthesized
 * target group and service, their timings scaled by `timeFactor`. Fields HAProxy cannot play
 * are listed in `notHonoured` (the caller logs them). Pure.
 */
export function targetGroupSettings(
  app: ApplicationTemplate,
  timeFactor: number,
): TargetGroupSettings {
  const tg = resolveTemplateValue(app.templates, app.stack, app.targetGroup.properties) as Record<
    string,
    unknown
  >;
  const svc = app.service.properties;
  const notHonoured: string[] = [];
  const not = (field: string, value: unknown, why: string) =>
    notHonoured.push(`${field}=${JSON.stringify(value)}: ${why}`);

  const attributes = new Map(
    ((tg.TargetGroupAttributes ?? []) as { Key?: string; Value?: string }[]).map((a) => [
      String(a.Key),
      String(a.Value),
    ]),
  );
  for (const [key, value] of attributes) {
    if (HONOURED_ATTRIBUTES.has(key)) continue;
    if (DEFAULT_ATTRIBUTE_VALUES[key] === value) continue;
    not(
      `TargetGroupAttributes.${key}`,
      value,
      'the local HAProxy plays no stickiness and no anomaly mitigation',
    );
  }
  if (tg.HealthCheckEnabled === false || tg.HealthCheckEnabled === 'false')
    not(
      'HealthCheckEnabled',
      tg.HealthCheckEnabled,
      'HAProxy always checks (the health gate needs it)',
    );
  for (const [field, ok] of [
    ['HealthCheckProtocol', 'HTTP'],
    ['Protocol', 'HTTP'],
    ['ProtocolVersion', 'HTTP1'],
    ['TargetType', 'ip'],
  ] as const)
    if (tg[field] !== undefined && tg[field] !== ok)
      not(field, tg[field], `HAProxy speaks ${ok} to 127.0.0.1 targets`);
  if (tg.HealthCheckPort !== undefined && tg.HealthCheckPort !== 'traffic-port')
    not('HealthCheckPort', tg.HealthCheckPort, "checks go to each task's own port (traffic-port)");
  if (tg.Port !== undefined)
    not('Port', tg.Port, 'every local task has its own port on 127.0.0.1 (see docs/local.md)');
  const matcher = tg.Matcher as { HttpCode?: string; GrpcCode?: string } | undefined;
  if (matcher?.GrpcCode !== undefined)
    not('Matcher.GrpcCode', matcher.GrpcCode, 'HAProxy checks HTTP status codes only');
  const codes = String(matcher?.HttpCode ?? ALB_DEFAULTS.Matcher).replace(/\s+/g, '');
  if (!/^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$/.test(codes))
    throw new ApplicationTemplateError(
      `target group ${app.targetGroup.logicalId} Matcher.HttpCode must be codes or ranges like 200,302 or 200-299, got ${codes}`,
    );
  if (
    svc.HealthCheckGracePeriodSeconds !== undefined &&
    typeof svc.HealthCheckGracePeriodSeconds === 'object'
  )
    throw new ApplicationTemplateError('HealthCheckGracePeriodSeconds must be a number');

  const aws = {
    intervalSeconds: num(tg.HealthCheckIntervalSeconds, ALB_DEFAULTS.HealthCheckIntervalSeconds),
    timeoutSeconds: num(tg.HealthCheckTimeoutSeconds, ALB_DEFAULTS.HealthCheckTimeoutSeconds),
    healthyThreshold: num(tg.HealthyThresholdCount, ALB_DEFAULTS.HealthyThresholdCount),
    unhealthyThreshold: num(tg.UnhealthyThresholdCount, ALB_DEFAULTS.UnhealthyThresholdCount),
    deregistrationDelaySeconds: num(
      attributes.get('deregistration_delay.timeout_seconds'),
      ALB_DEFAULTS.DeregistrationDelaySeconds,
    ),
    slowStartSeconds: num(attributes.get('slow_start.duration_seconds'), 0),
    // ECS uses 0 when a service behind a load balancer sets none.
    healthCheckGracePeriodSeconds: num(svc.HealthCheckGracePeriodSeconds, 0),
  };
  return {
    healthCheck: {
      path: String(tg.HealthCheckPath ?? ALB_DEFAULTS.HealthCheckPath),
      intervalMs: scaledMs(aws.intervalSeconds, timeFactor),
      timeoutMs: scaledMs(aws.timeoutSeconds, timeFactor),
      rise: aws.healthyThreshold,
      fall: aws.unhealthyThreshold,
      startGraceMs:
        aws.healthCheckGracePeriodSeconds === 0
          ? 0
          : scaledMs(aws.healthCheckGracePeriodSeconds, timeFactor),
      matcher: codes,
    },
    deregistrationDelayMs:
      aws.deregistrationDelaySeconds === 0
        ? 0
        : scaledMs(aws.deregistrationDelaySeconds, timeFactor),
    slowStartMs: aws.slowStartSeconds === 0 ? 0 : scaledMs(aws.slowStartSeconds, timeFactor),
    balance: haproxyBalance(attributes.get('load_balancing.algorithm.type')),
    timeFactor,
    aws,
    notHonoured,
  };
}

/** The service's desired count and deployment configuration as the template sets them. Pure. */
export function serviceSettings(app: ApplicationTemplate): {
  readonly desiredCount: number;
  readonly minimumHealthyPercent: number;
  readonly maximumPercent: number;
  readonly circuitBreaker: { readonly enable: boolean; readonly rollback: boolean };
} {
  const p = app.service.properties;
  const dc = (p.DeploymentConfiguration ?? {}) as Record<string, unknown>;
  const cb = (dc.DeploymentCircuitBreaker ?? {}) as Record<string, unknown>;
  return {
    desiredCount: num(p.DesiredCount, 1),
    minimumHealthyPercent: num(dc.MinimumHealthyPercent, 100),
    maximumPercent: num(dc.MaximumPercent, 200),
    circuitBreaker: { enable: cb.Enable === true, rollback: cb.Rollback === true },
  };
}

// ---------------------------------------------------------------------------------------------
// EFS access points (the local "EFS": a Docker volume per file system, these records for its root)

/** An EFS access point as local mode applies it to the uploads volume. */
export interface LocalAccessPoint {
  /** The id the task definition's authorizationConfig.accessPointId resolves to. */
  readonly accessPointId: string;
  readonly fileSystemId: string;
  readonly posixUser?: { readonly uid: number; readonly gid: number };
  /** Owner and mode the access point's root directory is created with. */
  readonly creationInfo?: { readonly uid: number; readonly gid: number; readonly mode: number };
  readonly path: string;
}

/** Every AWS::EFS::AccessPoint of the application stack, ids resolved as the TD sees them. Pure. */
export function accessPointsFromTemplate(app: ApplicationTemplate): LocalAccessPoint[] {
  const resources = (app.templates[app.stack]?.Resources ?? {}) as Record<string, Resource>;
  return Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::EFS::AccessPoint')
    .map(([id, r]) => {
      const p = resolveTemplateValue(app.templates, app.stack, r.Properties ?? {}) as Record<
        string,
        unknown
      >;
      const user = p.PosixUser as { Uid?: unknown; Gid?: unknown } | undefined;
      const root = (p.RootDirectory ?? {}) as {
        Path?: string;
        CreationInfo?: { OwnerUid?: unknown; OwnerGid?: unknown; Permissions?: unknown };
      };
      const ci = root.CreationInfo;
      return {
        accessPointId: String(resolveTemplateValue(app.templates, app.stack, { Ref: id })),
        fileSystemId: String(p.FileSystemId ?? ''),
        ...(user ? { posixUser: { uid: Number(user.Uid), gid: Number(user.Gid) } } : {}),
        ...(ci
          ? {
              creationInfo: {
                uid: Number(ci.OwnerUid),
                gid: Number(ci.OwnerGid),
                mode: Number.parseInt(String(ci.Permissions ?? '0755'), 8),
              },
            }
          : {}),
        path: root.Path ?? '/',
      };
    });
}

// ---------------------------------------------------------------------------------------------
// Task definition: CloudFormation → RegisterTaskDefinitionCommandInput

// CloudFormation names whose SDK name is not the first letter lowered.
const RENAMED: Record<string, string> = {
  EFSVolumeConfiguration: 'efsVolumeConfiguration',
  FSxWindowsFileServerVolumeConfiguration: 'fsxWindowsFileServerVolumeConfiguration',
  FilesystemId: 'fileSystemId',
  IAM: 'iam',
};
// Properties whose value is a map of user keys, copied as they are.
const MAPS = new Set(['DockerLabels', 'Options', 'DriverOpts', 'Labels']);

/** CloudFormation's PascalCase task definition properties in the ECS SDK's camelCase. Pure. */
export function cfnToSdk(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cfnToSdk);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [
      RENAMED[k] ?? `${k.charAt(0).toLowerCase()}${k.slice(1)}`,
      MAPS.has(k) ? v : cfnToSdk(v),
    ]),
  );
}

/** A Secrets Manager secret of the template, as a task definition's `valueFrom` names it. */
export interface TemplateSecret {
  readonly logicalId: string;
  /** Its `Name` property (e.g. `stepdeploy/wordpress-salts`), or the logical id. */
  readonly name: string;
  /** The secret holds the credentials of an RDS instance of the stack (attached or master). */
  readonly database: boolean;
}

/** The local stack's stand-ins for what the task definition references. */
export interface LocalEquivalents {
  /** The local task-definition family (named after the local service). */
  readonly family: string;
  /** The local MariaDB, standing in for every AWS::RDS::DBInstance's endpoint. */
  readonly database: { readonly host: string; readonly port: number };
  /** The HAProxy listener `host:port`, standing in for the load balancer's DNSName. */
  readonly loadBalancerAddress: string;
  /** The local secret file playing one JSON key of a secret, or undefined if there is none. */
  readonly secretFile: (secret: TemplateSecret, jsonKey: string) => string | undefined;
}

const SECRET_MARK = 'stepdeploy-local-secret:';

function secretsOf(app: ApplicationTemplate): Map<string, TemplateSecret> {
  const resources = (app.templates[app.stack]?.Resources ?? {}) as Record<string, Resource>;
  const database = new Set<string>();
  for (const r of Object.values(resources)) {
    if (
      r.Type === 'AWS::SecretsManager::SecretTargetAttachment' &&
      r.Properties?.TargetType === 'AWS::RDS::DBInstance'
    ) {
      const id = refOf(r.Properties?.SecretId);
      if (id) database.add(id);
    }
    if (r.Type === 'AWS::RDS::DBInstance') {
      const text = JSON.stringify(r.Properties?.MasterUserPassword ?? '');
      for (const m of text.matchAll(/"Ref":"([A-Za-z0-9]+)"/g)) database.add(m[1] as string);
    }
  }
  const secrets = new Map<string, TemplateSecret>();
  for (const [id, r] of Object.entries(resources))
    if (r.Type === 'AWS::SecretsManager::Secret')
      secrets.set(id, {
        logicalId: id,
        name: typeof r.Properties?.Name === 'string' ? r.Properties.Name : id,
        database: database.has(id),
      });
  return secrets;
}

/**
 * Revision 1 of the local task definition: the application stack's AWS::ECS::TaskDefinition
 * exactly as synthesized, in the ECS SDK's shape, with the named container's image swapped for
 * `image`, the family named after the local service, and every intrinsic resolved to the local
 * stack: the RDS endpoint to the local MariaDB, the load balancer's DNS name to HAProxy's
 * listener, each secret's `valueFrom` (`<secret ARN>:<json key>::`) to the local file that
 * plays that key. A reference with no local equivalent is refused, naming it. Pure.
 */
export function taskDefinitionRegistration(
  app: ApplicationTemplate,
  local: LocalEquivalents,
  image: { readonly containerName: string; readonly uri: string },
): RegisterTaskDefinitionCommandInput {
  const resources = (app.templates[app.stack]?.Resources ?? {}) as Record<string, Resource>;
  const secrets = secretsOf(app);
  const hooks: ResolveHooks = {
    ref: (id, type) => {
      if (type === 'AWS::SecretsManager::Secret') return `${SECRET_MARK}${id}`;
      if (type === 'AWS::SecretsManager::SecretTargetAttachment') {
        const target = refOf(resources[id]?.Properties?.SecretId);
        return target ? `${SECRET_MARK}${target}` : undefined;
      }
      return undefined;
    },
    getAtt: (_id, attribute, type) => {
      if (type === 'AWS::RDS::DBInstance' && attribute === 'Endpoint.Address')
        return local.database.host;
      if (type === 'AWS::RDS::DBInstance' && attribute === 'Endpoint.Port')
        return String(local.database.port);
      if (type === 'AWS::ElasticLoadBalancingV2::LoadBalancer' && attribute === 'DNSName')
        return local.loadBalancerAddress;
      return undefined;
    },
  };
  const resolved = resolveTemplateValue(
    app.templates,
    app.stack,
    app.taskDefinition.properties,
    hooks,
  );
  const td = cfnToSdk(resolved) as RegisterTaskDefinitionCommandInput;
  const containers = td.containerDefinitions ?? [];
  if (!containers.some((c) => c.name === image.containerName))
    throw new ApplicationTemplateError(
      `task definition ${app.taskDefinition.logicalId} has no container ${image.containerName} (has: ${containers.map((c) => c.name).join(', ')})`,
    );
  return {
    ...td,
    family: local.family,
    containerDefinitions: containers.map((c) => {
      const environment = (c.environment ?? []).map((e) => {
        if (/amazonaws\.com|arn:aws/.test(e.value ?? ''))
          throw new ApplicationTemplateError(
            `container ${c.name} environment ${e.name}=${e.value} names an AWS resource with no local equivalent`,
          );
        return e;
      });
      const localSecrets = (c.secrets ?? []).map((s) => {
        const from = s.valueFrom ?? '';
        const [id = '', jsonKey = '', stage = '', version = '', ...more] = from.startsWith(
          SECRET_MARK,
        )
          ? from.slice(SECRET_MARK.length).split(':')
          : [];
        const secret = secrets.get(id);
        if (!secret)
          throw new ApplicationTemplateError(
            `container ${c.name} secret ${s.name} comes from ${from.replace(SECRET_MARK, 'secret ')}, which is no Secrets Manager secret of the stack: local mode has no equivalent`,
          );
        if (jsonKey === '' || stage !== '' || version !== '' || more.length > 0)
          throw new ApplicationTemplateError(
            `container ${c.name} secret ${s.name} must name one JSON key of ${secret.name} (valueFrom <arn>:<key>::); whole secrets, version stages and ids have no local equivalent`,
          );
        const file = local.secretFile(secret, jsonKey);
        if (!file)
          throw new ApplicationTemplateError(
            `container ${c.name} secret ${s.name}: key ${jsonKey} of ${secret.name} has no local secret file`,
          );
        return { name: s.name, valueFrom: file };
      });
      return {
        ...c,
        ...(c.name === image.containerName ? { image: image.uri } : {}),
        ...(c.environment ? { environment } : {}),
        ...(c.secrets ? { secrets: localSecrets } : {}),
      };
    }),
  };
}
