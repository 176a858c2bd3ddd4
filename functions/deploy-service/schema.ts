import * as z from 'zod';

/** DeployService input (also used by the Rollback state). */
export const deployServiceSchema = z.object({
  cluster: z.string().min(1),
  service: z.string().min(1),
  taskDefinitionArn: z.string().min(1),
  /**
   * Tasks the service runs from now on (config `desiredCount`). The ASL passes it as a string
   * (a `${DesiredCount}` substitution), so a whole number in a string is accepted too. Absent,
   * the service keeps its count; the application stack creates the service at 0 tasks, so the
   * first release is what starts any.
   */
  desiredCount: z
    .union([z.number(), z.string().regex(/^\d+$/, 'expected a whole number').transform(Number)])
    .pipe(z.number().int().min(0).max(100))
    .optional(),
});

/** DeployService input type. */
export type DeployServiceEvent = z.infer<typeof deployServiceSchema>;
