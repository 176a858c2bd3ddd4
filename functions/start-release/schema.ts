import * as z from 'zod';

/**
 * What the trigger rules' input transformers hand to StartRelease: the fields of a
 * CodeCommit push or an S3 object creation, plus who caused it.
 */
export const startReleaseEventSchema = z.discriminatedUnion('trigger', [
  z.object({
    trigger: z.literal('codecommit'),
    repository: z.string().min(1),
    branch: z.string().min(1),
    commitId: z.string().regex(/^[0-9a-f]{40}$/, 'must be a full 40-character commit id'),
    startedBy: z.string().default('codecommit'),
  }),
  z.object({
    trigger: z.literal('s3'),
    bucket: z.string().min(1),
    key: z.string().min(1),
    versionId: z.string().min(1, 'is missing: the artifact bucket must be versioned'),
    startedBy: z.string().default('s3'),
  }),
]);

/** StartRelease's event type. */
export type StartReleaseEvent = z.infer<typeof startReleaseEventSchema>;
