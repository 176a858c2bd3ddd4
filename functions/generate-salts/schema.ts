import * as z from 'zod';

/**
 * The fields of every custom resource request (AWSCloudFormation/latest/UserGuide/
 * crpg-ref-requests.html), as Powertools' CloudFormationCustomResource*Schema declare them.
 * Declared here because those import zod as `{ z }`, a namespace object that keeps every
 * zod locale in the bundle (443 KiB of zod instead of 83 KiB).
 */
const requestFields = {
  ServiceToken: z.string(),
  ResponseURL: z.url(),
  StackId: z.string(),
  RequestId: z.string(),
  LogicalResourceId: z.string(),
  ResourceType: z.string(),
  ResourceProperties: z.record(z.string(), z.any()),
};
const CloudFormationCustomResourceCreateSchema = z.object({
  ...requestFields,
  RequestType: z.literal('Create'),
});
const CloudFormationCustomResourceUpdateSchema = z.object({
  ...requestFields,
  RequestType: z.literal('Update'),
  OldResourceProperties: z.record(z.string(), z.any()),
});
const CloudFormationCustomResourceDeleteSchema = z.object({
  ...requestFields,
  RequestType: z.literal('Delete'),
});

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
