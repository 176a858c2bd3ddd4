import { z } from 'zod';

/** DeployService input (also used by the Rollback state). */
export const deployServiceSchema = z.object({
  cluster: z.string().min(1),
  service: z.string().min(1),
  taskDefinitionArn: z.string().min(1),
});

/** DeployService input type. */
export type DeployServiceEvent = z.infer<typeof deployServiceSchema>;
