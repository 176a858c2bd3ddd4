/** Thrown at cold start when a required environment variable is missing or malformed. */
export class MissingEnvironmentError extends Error {
  constructor(name: string, detail = 'is not set') {
    super(`environment variable ${name} ${detail}`);
    this.name = 'MissingEnvironmentError';
  }
}

type Spec = Record<string, 'string' | 'number'>;
type Resolved<S extends Spec> = {
  readonly [K in keyof S]: S[K] extends 'number' ? number : string;
};

/**
 * Reads the named variables once (call it at module scope) and throws naming the first
 * missing or non-numeric one, so a misconfigured function fails at cold start, not mid-release.
 */
export function readEnv<S extends Spec>(
  spec: S,
  source: NodeJS.ProcessEnv = process.env,
): Resolved<S> {
  const out: Record<string, string | number> = {};
  for (const [name, kind] of Object.entries(spec)) {
    const raw = source[name];
    if (raw === undefined || raw === '') throw new MissingEnvironmentError(name);
    if (kind === 'number') {
      const value = Number(raw);
      if (!Number.isFinite(value))
        throw new MissingEnvironmentError(name, `is not a number: ${raw}`);
      out[name] = value;
    } else {
      out[name] = raw;
    }
  }
  return out as Resolved<S>;
}
