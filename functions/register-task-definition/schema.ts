import * as z from 'zod';

/** RegisterTaskDefinition input. */
export const registerTaskDefinitionSchema = z.object({
  cluster: z.string().min(1),
  service: z.string().min(1),
  containerName: z.string().min(1),
  imageUri: z.string().min(1),
  imageDigest: z.string().min(1),
});

/** RegisterTaskDefinition input type. */
export type RegisterTaskDefinitionEvent = z.infer<typeof registerTaskDefinitionSchema>;
