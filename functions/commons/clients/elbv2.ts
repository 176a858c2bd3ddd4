import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { tracer } from '#commons/powertools.ts';

/** Module-scope ElasticLoadBalancingV2Client, traced by X-Ray; throttles that outlast the SDK retries reach the ASL Retry. */
export const elbv2Client = tracer.captureAWSv3Client(new ElasticLoadBalancingV2Client());
