import * as z from 'zod';

/** RegisterVerificationTaskDefinition input: the service's current revision and the scratch URL. */
export const registerVerificationTaskDefinitionSchema = z.object({
  taskDefinitionArn: z.string().min(1),
  containerName: z.string().min(1),
  siteUrl: z.url(),
});

/** RegisterVerificationTaskDefinition input type. */
export type RegisterVerificationTaskDefinitionEvent = z.infer<
  typeof registerVerificationTaskDefinitionSchema
>;

/** RegisterVerificationTaskDefinition output: the revision RunVerificationTask runs. */
export const registerVerificationTaskDefinitionOutputSchema = z.object({
  taskDefinitionArn: z.string().min(1),
  sourceTaskDefinitionArn: z.string().min(1),
});

/** RegisterVerificationTaskDefinition output type. */
export type RegisterVerificationTaskDefinitionOutput = z.infer<
  typeof registerVerificationTaskDefinitionOutputSchema
>;
