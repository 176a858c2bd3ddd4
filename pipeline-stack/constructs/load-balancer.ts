import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import type { AppConfig } from '../config.ts';
import { acknowledge } from '../nag.ts';
import { CONTAINER_PORT, HEALTH_CHECK_PATH, UNHEALTHY_THRESHOLD } from './wordpress-contract.ts';

/** Props of {@link SiteLoadBalancer}. */
export interface SiteLoadBalancerProps {
  readonly config: Pick<AppConfig, 'prefix' | 'certificateArn' | 'domainName' | 'enableWaf'>;
  readonly vpc: ec2.IVpc;
  readonly securityGroup: ec2.ISecurityGroup;
}

/**
 * The internet-facing ALB in the public subnets: access logs to their own bucket, HTTP or
 * HTTPS with a redirect, the health-gated target group the releases watch, and optionally a
 * WAF. Created in `scope` under the ids it always had (see Network for why no Construct node).
 */
export class SiteLoadBalancer {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** Public URL of the site: the domain when configured (https with a certificate), else the ALB. */
  readonly siteUrl: string;
  /** The site's host name (the Host header visitors send; a token when it is the ALB's). */
  readonly siteHost: string;

  constructor(scope: Construct, props: SiteLoadBalancerProps) {
    const { config, vpc } = props;
    const accessLogBucket = new s3.Bucket(scope, 'AccessLogs', {
      // ALB log delivery only supports SSE-S3.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: false,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(accessLogBucket, {
      'AwsSolutions-S1':
        'This bucket is the log destination itself; logging its own access would need another ' +
        'bucket whose access again goes unlogged. Public access is blocked and TLS enforced.',
    });
    const loadBalancer = new elbv2.ApplicationLoadBalancer(scope, 'LoadBalancer', {
      vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup: props.securityGroup,
      dropInvalidHeaderFields: true,
      http2Enabled: true,
    });
    loadBalancer.logAccessLogs(accessLogBucket, 'alb');
    this.loadBalancer = loadBalancer;

    const https = config.certificateArn !== undefined;
    this.siteHost = config.domainName ?? loadBalancer.loadBalancerDnsName;
    this.siteUrl =
      config.domainName !== undefined
        ? `${https ? 'https' : 'http'}://${config.domainName}`
        : `http://${loadBalancer.loadBalancerDnsName}`;

    // Gating speed vs. flapping: a new task turns healthy after 2 passes 10 s apart (~20 s)
    // and a broken one is marked unhealthy after 2 failures (~20 s), so the pipeline learns
    // the verdict within half a minute instead of the 2.5 min of the defaults (30 s x 5).
    // /healthz makes no DB call, so a 5 s timeout is ample and a DB blip cannot drain every
    // target at once. Deregistration waits 20 s: long enough for in-flight requests and
    // keep-alive connections to finish (WordPress pages answer in well under a second, the
    // ALB's idle timeout closes idle keep-alives), short enough not to slow each rollout
    // by the default 300 s.
    this.targetGroup = new elbv2.ApplicationTargetGroup(scope, 'TargetGroup', {
      vpc,
      port: CONTAINER_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      deregistrationDelay: Duration.seconds(20),
      // A new task's share of requests ramps up over 30 s (the ALB's minimum) instead of a
      // full round-robin share at once: its first pages (cold caches) stay few.
      slowStart: Duration.seconds(30),
      healthCheck: {
        path: HEALTH_CHECK_PATH,
        protocol: elbv2.Protocol.HTTP,
        healthyHttpCodes: '200',
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: UNHEALTHY_THRESHOLD,
      },
    });

    if (config.certificateArn !== undefined) {
      loadBalancer.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        certificates: [elbv2.ListenerCertificate.fromArn(config.certificateArn)],
        defaultTargetGroups: [this.targetGroup],
      });
      loadBalancer.addRedirect({
        sourcePort: 80,
        sourceProtocol: elbv2.ApplicationProtocol.HTTP,
        targetPort: 443,
        targetProtocol: elbv2.ApplicationProtocol.HTTPS,
      });
    } else {
      loadBalancer.addListener('Http', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        defaultTargetGroups: [this.targetGroup],
      });
    }
    acknowledge(props.securityGroup, {
      'AwsSolutions-EC23':
        'Public website: the ALB must accept HTTP(S) from any address; WAF (enableWaf) filters it.',
    });

    if (config.enableWaf) this.addWebAcl(scope, config.prefix);
  }

  /** A regional web ACL with the AWS managed core, PHP and WordPress rule sets, on the ALB. */
  private addWebAcl(scope: Construct, prefix: string): void {
    const webAcl = new wafv2.CfnWebACL(scope, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: {
        cloudWatchMetricsEnabled: true,
        metricName: `${prefix}-web-acl`,
        sampledRequestsEnabled: true,
      },
      rules: [
        managedRuleGroup('AWSManagedRulesCommonRuleSet', 0, [
          // The core set blocks bodies over 8 KB, which would block media uploads and
          // long posts in wp-admin; count them instead of blocking.
          'SizeRestrictions_BODY',
        ]),
        managedRuleGroup('AWSManagedRulesPHPRuleSet', 1),
        managedRuleGroup('AWSManagedRulesWordPressRuleSet', 2),
      ],
    });
    new wafv2.CfnWebACLAssociation(scope, 'WebAclAssociation', {
      resourceArn: this.loadBalancer.loadBalancerArn,
      webAclArn: webAcl.attrArn,
    });
  }
}

/** One AWS managed rule group, blocking, except the named rules, which only count. */
function managedRuleGroup(
  name: string,
  priority: number,
  countOnly: string[] = [],
): wafv2.CfnWebACL.RuleProperty {
  return {
    name,
    priority,
    overrideAction: { none: {} },
    statement: {
      managedRuleGroupStatement: {
        vendorName: 'AWS',
        name,
        ruleActionOverrides:
          countOnly.length > 0
            ? countOnly.map((rule) => ({ name: rule, actionToUse: { count: {} } }))
            : undefined,
      },
    },
    visibilityConfig: {
      cloudWatchMetricsEnabled: true,
      metricName: name,
      sampledRequestsEnabled: true,
    },
  };
}
