import * as z from 'zod';

/**
 * ReadBuildOutput input: the `Build` that `codebuild:startBuild.sync` returned, as is. Only
 * the id is required here; a missing or incomplete ExportedEnvironmentVariables is the
 * decision function's to name (BuildOutputError), not a parse error.
 */
export const readBuildOutputSchema = z.object({
  build: z.looseObject({
    Id: z.string().min(1),
    ExportedEnvironmentVariables: z
      .array(z.looseObject({ Name: z.string(), Value: z.string().optional() }))
      .optional(),
  }),
});

/** ReadBuildOutput input type. */
export type ReadBuildOutputEvent = z.infer<typeof readBuildOutputSchema>;

/** The image the build pushed: the branch result later steps read as `$.artifacts.image`. */
export const readBuildOutputResultSchema = z.object({
  image: z.object({
    uri: z.string().min(1),
    digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
    buildId: z.string().min(1),
  }),
});

/** ReadBuildOutput output type. */
export type ReadBuildOutputResult = z.infer<typeof readBuildOutputResultSchema>;
