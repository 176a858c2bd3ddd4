import * as z from 'zod';

/** Thrown at cold start when a required environment variable is missing or malformed. */
export class MissingEnvironmentError extends Error {
  constructor(name: string, detail = 'is not set') {
    super(`environment variable ${name} ${detail}`);
    this.name = 'MissingEnvironmentError';
  }
}

/** The schema of one variable: it reads the raw string, never empty (empty counts as unset). */
export type VariableSchema = z.ZodType<unknown, string | undefined>;

/**
 * A handler's whole environment, declared once in `functions/<step>/env.ts` as
 * `environmentSchema`: the handler reads it, and the constructs may set only its keys.
 */
export type EnvironmentSchema = z.ZodObject<Record<string, VariableSchema>>;

/** The names a handler's environment declares. */
export type EnvironmentName<S extends EnvironmentSchema> = keyof S['shape'] & string;

/** A variable taken as it is (a name, an ARN, a host). */
export const stringVariable = (): z.ZodString => z.string();

/** A variable read as a finite number (a port, a count, a ratio). */
export const numberVariable = () =>
  z.string().transform((raw, ctx) => {
    const value = Number(raw);
    if (Number.isFinite(value)) return value;
    ctx.issues.push({ code: 'custom', message: `is not a number: ${raw}`, input: raw });
    return z.NEVER;
  });

/** The environment of a handler that reads none. */
export const noEnvironment = z.object({});

/**
 * Reads the variables `schema` declares once (call it at module scope) and throws naming the
 * first missing or malformed one, so a misconfigured function fails at cold start, not
 * mid-release. Variables the schema does not declare are not read.
 */
export function readEnvironment<S extends EnvironmentSchema>(
  schema: S,
  source: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  const raw: Record<string, string | undefined> = {};
  for (const name of Object.keys(schema.shape)) {
    const value = source[name];
    raw[name] = value === '' ? undefined : value;
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const name = String(issue?.path[0] ?? '(unknown)');
  throw new MissingEnvironmentError(
    name,
    raw[name] === undefined ? 'is not set' : (issue?.message ?? 'is malformed'),
  );
}
