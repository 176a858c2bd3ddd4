// The command line's bundle: cli/main.ts and everything it imports from this repository,
// bundled by esbuild into dist/cli/, and the check bin/stepdeploy.js runs before using it.
//
// Why a bundle: tsx transpiles each TypeScript file at run time, which cost `stepdeploy --help`
// more than a second. Why this design:
// - npm packages stay external (node_modules is there whenever the repository is). Bundling
//   them gained nothing measurable: with commander (the one package `--help` loads) bundled,
//   `--help` took 1.32× a bare `node -e 1` against 1.34× external, with every package 1.29×,
//   in one interleaved run of 21 on a busy 2-CPU machine, while the build took 4.2 s instead
//   of 0.8 s. What made the start slow was loading the AWS SDK, the state machine runner and
//   mysql2 up front; commands import them when they run, and esbuild's code splitting keeps
//   each command's imports in a chunk of its own.
// - Every output file is named by its content hash, so a rebuild writes the same bytes under
//   the same name or a new name; each file, and last the manifest (the only file that names
//   the entry), is replaced by a rename. A process that read one manifest keeps finding the
//   files it names while another process rebuilds.
// - The manifest records each input's size, mtime and SHA-256. The launcher stats them all
//   (about 1 ms for a hundred files) and hashes only a file whose mtime moved, so a checkout or
//   `touch` that leaves the content alone does not count as a change, and a changed file
//   always does: the bundle never runs code older than the sources.
//
// `node bin/cli-bundle.js` builds it (npm's `prepare`, so `npm ci` does, and `npm run
// build:cli`); the launcher rebuilds it itself when a source changed.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository this file belongs to. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Where the bundle goes, relative to the repository (git-ignored). */
export const BUNDLE_DIR = 'dist/cli';
const MANIFEST = 'manifest.json';
// Inputs esbuild reads that are not modules: they change what the bundle is, so they count.
const BUILD_INPUTS = ['package.json', 'tsconfig.json', 'bin/cli-bundle.js'];
// Unreferenced outputs of earlier builds are removed only this long after they were written,
// so a long `local release` that loads a chunk late still finds it after a rebuild or two.
const PRUNE_AFTER_MS = 24 * 3600 * 1000;

/**
 * @typedef {{ size: number, mtimeMs: number, sha256: string }} InputStamp
 * @typedef {{ entry: string, files: string[], inputs: Record<string, InputStamp>, esbuild: string, builtAt: string }} Manifest
 * @typedef {{ fresh: true, entry: string, checked: number } | { fresh: false, reason: string }} BundleState
 */

// node:crypto loads only when a file has to be hashed: it costs more than the whole check.
const sha256 = async (/** @type {string} */ file) =>
  (await import('node:crypto')).createHash('sha256').update(readFileSync(file)).digest('hex');

/** @param {string} root */
function readManifest(root) {
  try {
    return /** @type {Manifest} */ (
      JSON.parse(readFileSync(join(root, BUNDLE_DIR, MANIFEST), 'utf8'))
    );
  } catch {
    return undefined;
  }
}

/**
 * Whether the bundle under `root` was built from the sources as they are now, and its entry.
 * Stats every input; reads and hashes only an input whose mtime is not the recorded one.
 * @param {string} [root]
 * @returns {Promise<BundleState>}
 */
export async function bundleState(root = ROOT) {
  const manifest = readManifest(root);
  if (!manifest) return { fresh: false, reason: 'no bundle was built yet' };
  const entry = join(root, BUNDLE_DIR, manifest.entry);
  if (!existsSync(entry))
    return { fresh: false, reason: `${BUNDLE_DIR}/${manifest.entry} is missing` };
  const paths = Object.keys(manifest.inputs);
  let touched = false;
  for (const path of paths) {
    const stamp = /** @type {InputStamp} */ (manifest.inputs[path]);
    let stat;
    try {
      stat = statSync(join(root, path));
    } catch {
      return { fresh: false, reason: `${path} is gone` };
    }
    if (stat.size !== stamp.size) return { fresh: false, reason: `${path} changed` };
    if (stat.mtimeMs === stamp.mtimeMs) continue;
    if ((await sha256(join(root, path))) !== stamp.sha256)
      return { fresh: false, reason: `${path} changed` };
    manifest.inputs[path] = { ...stamp, mtimeMs: stat.mtimeMs };
    touched = true;
  }
  // Unchanged files with a new mtime (a branch switched and back) are recorded as they are,
  // so the next run need not hash them again. Best effort: a read-only checkout still works.
  if (touched) {
    try {
      writeAtomically(join(root, BUNDLE_DIR, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    } catch {}
  }
  return { fresh: true, entry, checked: paths.length };
}

/**
 * esbuild bundles every module into files in dist/cli, so `import.meta.url` would name the
 * bundle instead of the source; local/config.ts finds the project root from it. Each source's
 * `import.meta` is rewritten to its own location, relative to the bundle so the checkout can
 * move. @param {string} outdir
 */
function sourceLocationPlugin(outdir) {
  return {
    name: 'source-location',
    /** @param {import('esbuild').PluginBuild} build */
    setup(build) {
      build.onLoad({ filter: /\.[cm]?ts$/ }, (args) => {
        if (args.path.includes('/node_modules/')) return undefined;
        const source = readFileSync(args.path, 'utf8');
        if (!source.includes('import.meta')) return undefined;
        const url = `new URL(${JSON.stringify(relative(outdir, args.path))}, import.meta.url)`;
        const contents = source
          .replace(/\bimport\.meta\.url\b/g, `${url}.href`)
          .replace(/\bimport\.meta\.filename\b/g, `decodeURIComponent(${url}.pathname)`)
          .replace(
            /\bimport\.meta\.dirname\b/g,
            `decodeURIComponent(new URL('.', ${url}).pathname).replace(/\\/$/, '')`,
          );
        return { contents, loader: 'ts' };
      });
    },
  };
}

/** @param {string} root @param {string} path @returns {Promise<[string, InputStamp]>} */
async function stampOf(root, path) {
  const file = join(root, path);
  const { size, mtimeMs } = statSync(file);
  return [path, { size, mtimeMs, sha256: await sha256(file) }];
}

/** Writes a file by renaming a temporary one over it, so no reader sees it half-written. */
function writeAtomically(/** @type {string} */ file, /** @type {Uint8Array | string} */ data) {
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(temporary, data);
  renameSync(temporary, file);
}

/**
 * Builds the bundle under `root` and returns its manifest. Throws when esbuild is missing or
 * the build fails (with esbuild's messages).
 * @param {{ root?: string }} [options]
 * @returns {Promise<Manifest>}
 */
export async function buildBundle({ root = ROOT } = {}) {
  const esbuild = await import('esbuild');
  const outdir = join(root, BUNDLE_DIR);
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { main: 'cli/main.ts' },
    bundle: true,
    platform: 'node',
    target: 'node20.12',
    format: 'esm',
    splitting: true,
    packages: 'external',
    outdir,
    entryNames: '[name]-[hash]',
    chunkNames: '[name]-[hash]',
    // Error names are what --json prints and what callers match on; bundling may rename classes.
    keepNames: true,
    sourcemap: 'linked',
    metafile: true,
    write: false,
    logLevel: 'silent',
    plugins: [sourceLocationPlugin(outdir)],
  });
  mkdirSync(outdir, { recursive: true });
  const files = [];
  let entry;
  for (const output of result.outputFiles) {
    const name = relative(outdir, output.path);
    files.push(name);
    writeAtomically(output.path, output.contents);
  }
  for (const [path, meta] of Object.entries(result.metafile.outputs))
    if (meta.entryPoint === 'cli/main.ts') entry = relative(outdir, join(root, path));
  if (!entry) throw new Error('esbuild wrote no entry for cli/main.ts');
  const inputs = Object.fromEntries(
    await Promise.all(
      [...Object.keys(result.metafile.inputs), ...BUILD_INPUTS]
        .sort()
        .map((path) => stampOf(root, path)),
    ),
  );
  /** @type {Manifest} */
  const manifest = {
    entry,
    files,
    inputs,
    esbuild: esbuild.version,
    builtAt: new Date().toISOString(),
  };
  writeAtomically(join(outdir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  const keep = new Set([...files, MANIFEST]);
  for (const name of readdirSync(outdir)) {
    const file = join(outdir, name);
    if (!keep.has(name) && Date.now() - statSync(file).mtimeMs > PRUNE_AFTER_MS)
      rmSync(file, { force: true });
  }
  return manifest;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  try {
    const manifest = await buildBundle();
    process.stdout.write(
      `built ${BUNDLE_DIR}/${manifest.entry} from ${Object.keys(manifest.inputs).length} inputs in ${Date.now() - started} ms\n`,
    );
  } catch (error) {
    process.stderr.write(
      `error: the command line bundle was not built: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  }
}
