import {
  CloudFormationCustomResourceCreateSchema,
  CloudFormationCustomResourceDeleteSchema,
  CloudFormationCustomResourceUpdateSchema,
} from '@aws-lambda-powertools/parser/schemas/cloudformation-custom-resource';
import * as z from 'zod';

/** The one property the stack gives the `Custom::WordPressSalts` resource. */
const saltsPropertiesSchema = z.object({ SecretId: z.string().min(1) }).loose();

/**
 * A CloudFormation custom resource request for `Custom::WordPressSalts`: Create, Update
 * (with the old properties) or Delete (with the physical id Create answered).
 */
export const generateSaltsSchema = z.discriminatedUnion('RequestType', [
  CloudFormationCustomResourceCreateSchema.extend({ ResourceProperties: saltsPropertiesSchema }),
  CloudFormationCustomResourceUpdateSchema.extend({
    PhysicalResourceId: z.string().min(1).optional(),
    ResourceProperties: saltsPropertiesSchema,
    OldResourceProperties: saltsPropertiesSchema,
  }),
  CloudFormationCustomResourceDeleteSchema.extend({
    PhysicalResourceId: z.string().min(1).optional(),
    ResourceProperties: saltsPropertiesSchema,
  }),
]);

/** GenerateSalts input type. */
export type GenerateSaltsEvent = z.infer<typeof generateSaltsSchema>;

/**
 * The body CloudFormation expects at the request's ResponseURL
 * (AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html).
 */
export interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  /** Always empty: anything here is readable with Fn::GetAtt, and the salts are secret. */
  readonly Data: Readonly<Record<string, never>>;
}
