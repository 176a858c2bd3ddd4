// Types of bin/cli-bundle.js for the TypeScript that imports it (the bench and the tests);
// the module stays JavaScript because the launcher loads it before tsx could be registered.

/** The repository the module belongs to. */
export const ROOT: string;
/** Where the bundle goes, relative to the repository (git-ignored). */
export const BUNDLE_DIR: string;

/** What the manifest records of one input: the stat the launcher compares, and the hash. */
export interface InputStamp {
  readonly size: number;
  readonly mtimeMs: number;
  readonly sha256: string;
}

/** dist/cli/manifest.json: the entry, every output file, and every input with its stamp. */
export interface Manifest {
  readonly entry: string;
  readonly files: readonly string[];
  readonly inputs: Readonly<Record<string, InputStamp>>;
  readonly esbuild: string;
  readonly builtAt: string;
}

/** Whether the bundle was built from the sources as they are now. */
export type BundleState =
  | { readonly fresh: true; readonly entry: string; readonly checked: number }
  | { readonly fresh: false; readonly reason: string };

/** Checks the bundle under `root` (default ROOT) against its recorded inputs. */
export function bundleState(root?: string): Promise<BundleState>;

/** Builds the bundle under `root` (default ROOT); throws when esbuild is missing or fails. */
export function buildBundle(options?: { root?: string }): Promise<Manifest>;
