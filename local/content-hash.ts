/**
 * Content keys for caches: the build contexts of local images (local/docker.ts), the inputs of
 * the synthesized templates (local/synth.ts) and of the image's app stage (local/packer.ts).
 * One way to list and hash files, so a key changes exactly when an input's name, mode or bytes
 * do. (The site source has its own tree hash, local/site-source.ts: it must equal the one
 * packer/site-hash.sh computes.)
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** Every regular file under `dir`, recursively, sorted; files below a directory matching `skip` are left out. */
export async function filesUnder(dir: string, skip?: RegExp): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && !skip?.test(relative(dir, e.parentPath)))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/**
 * A sha256 (hex) over `seed`, then each file's path relative to `root`, permission bits and
 * bytes, in the order given.
 */
export async function hashFiles(
  root: string,
  files: readonly string[],
  seed = '',
): Promise<string> {
  const hash = createHash('sha256').update(seed);
  for (const file of files) {
    const st = await stat(file);
    hash.update(`${relative(root, file)}\0${st.mode & 0o777}\0`);
    hash.update(await readFile(file));
    hash.update('\0');
  }
  return hash.digest('hex');
}
