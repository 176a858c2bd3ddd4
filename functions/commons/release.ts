import * as z from 'zod';
import { SMOKE_MAX_ATTEMPTS } from '#commons/smoke.ts';
import { DIGEST_IMAGE } from '#commons/task-definition.ts';

/** Release ids double as snapshot-id suffixes, so they follow RDS identifier rules. */
export const RELEASE_ID = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Options a release may set; defaults suit a small WordPress service. */
export const releaseOptionsSchema = z
  .strictObject({
    skipRestoreTest: z.boolean().default(false),
    healthTimeoutSeconds: z.int().min(60).max(3600).default(900),
    pollIntervalSeconds: z.int().min(1).max(300).default(15),
    // The gate polls every half health-check interval while a target is unhealthy
    // (nextPollMs), so 6 polls in a row give a slow target three intervals to recover.
    maxUnhealthyPolls: z.int().min(1).max(40).default(6),
    requiredHealthyPolls: z.int().min(1).max(10).default(2),
    smokeAttempts: z.int().min(1).max(SMOKE_MAX_ATTEMPTS).default(5),
  })
  // Parsed like an empty object when absent, so the field defaults above are the only ones.
  .prefault({});

/** Where the release comes from: a CodeCommit commit, an S3 object version, or a built image. */
export const releaseSourceSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('codecommit'),
    commitId: z.string().regex(/^[0-9a-f]{40}$/, 'must be a full 40-character commit id'),
    branch: z.string().min(1).max(256).optional(),
  }),
  z.strictObject({
    type: z.literal('s3'),
    key: z
      .string()
      .min(1)
      .max(1024)
      .regex(/\.zip$/, 'must name a .zip object'),
    versionId: z.string().min(1).max(1024),
  }),
  z.strictObject({
    type: z.literal('image'),
    imageUri: z
      .string()
      .regex(DIGEST_IMAGE, 'must be pinned by digest: <repository>@sha256:<64 hex>'),
  }),
]);

/** What the person or trigger hands to the state machine. */
export const releaseInputSchema = z.strictObject({
  releaseId: z
    .string()
    .max(60)
    .regex(RELEASE_ID, 'lowercase letters, digits and single hyphens, starting with a letter')
    .optional(),
  source: releaseSourceSchema,
  trigger: z.enum(['codecommit', 's3', 'manual', 'schedule']).default('manual'),
  startedBy: z.string().min(1).max(128),
  options: releaseOptionsSchema,
});

/** The service and its surroundings, filled into the ASL from the stack. */
export const releaseTargetSchema = z.object({
  cluster: z.string().min(1),
  service: z.string().min(1),
  containerName: z.string().min(1),
  targetGroupArn: z.string().min(1),
  dbInstanceIdentifier: z.string().min(1),
  siteUrl: z.url(),
  sourceRepositoryUrl: z.string().min(1),
  sourceBucket: z.string().min(1),
  snapshotPrefix: z.string().regex(RELEASE_ID),
});

/** The normalised release every later step reads (`$.release`). */
export const releaseSchema = z.object({
  releaseId: z.string().regex(RELEASE_ID),
  trigger: z.string(),
  startedBy: z.string(),
  startedAt: z.string(),
  source: z.record(z.string(), z.string()),
  snapshotId: z.string(),
  build: z
    .object({
      sourceType: z.enum(['CODECOMMIT', 'S3']),
      sourceLocation: z.string(),
      sourceVersion: z.string(),
    })
    .optional(),
  image: z.object({ uri: z.string(), digest: z.string() }).optional(),
  target: releaseTargetSchema,
  options: z.object({
    skipRestoreTest: z.boolean(),
    healthTimeoutSeconds: z.number(),
    pollIntervalSeconds: z.number(),
    maxUnhealthyPolls: z.number(),
    requiredHealthyPolls: z.number(),
    smokeAttempts: z.number(),
  }),
});

/** Raw release input as accepted from a trigger or a person. */
export type ReleaseInput = z.input<typeof releaseInputSchema>;
/** The normalised release. */
export type Release = z.infer<typeof releaseSchema>;
/** The stack-provided service coordinates. */
export type ReleaseTarget = z.infer<typeof releaseTargetSchema>;
