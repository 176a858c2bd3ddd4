import { createHash } from 'node:crypto';
import { cp, lstat, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NamedError } from '#commons/errors.ts';

/** The repository's own site/: what a release builds when no other source is named. */
export const DEFAULT_SITE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'site');

/** Directories of a source that are never part of it (what a CodeCommit checkout leaves out). */
const SKIPPED_DIRS = new Set(['.git']);

/** A site source that cannot be built, with what to change. */
export class SiteSourceError extends NamedError {
  override readonly name = 'SiteSourceError';
}

/** A site's code as a release builds it: its files and their content hash. */
export interface SiteSource {
  readonly dir: string;
  /** Relative paths (with `/`), in byte order: the order the hash is taken in. */
  readonly files: readonly string[];
  /** `sha256:<hex>` of the tree (see {@link treeDigestLine}); packer/site-hash.sh prints the same. */
  readonly hash: string;
}

/**
 * One line of the tree digest: what `sha256sum` prints for a file, path relative to the root.
 * The tree's hash is the SHA-256 of these lines in byte order of their paths, so
 * `find . -type f | LC_ALL=C sort | xargs sha256sum` with `./` removed hashes to the same. Pure.
 */
export function treeDigestLine(fileSha256: string, path: string): string {
  return `${fileSha256}  ${path}\n`;
}

/** Byte order of two relative paths (what `LC_ALL=C sort` gives). Pure. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * Reads a site source directory: every regular file under it but `.git/`, refusing what a
 * build could not reproduce (symbolic links, names with a newline or backslash, a missing
 * or empty directory), and hashes it.
 */
export async function readSiteSource(dir: string): Promise<SiteSource> {
  const root = resolve(dir);
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory())
    throw new SiteSourceError(
      `site source ${root} is not a directory: pass --source <dir> holding themes/, plugins/, mu-plugins/ or site.yml`,
    );
  const files: string[] = [];
  const problems: string[] = [];
  const walk = async (current: string): Promise<void> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      const rel = relative(root, full).split(sep).join('/');
      if (/[\n\r\\]/.test(entry.name)) problems.push(`${rel}: a name with a newline or backslash`);
      else if (entry.isSymbolicLink())
        problems.push(`${rel}: a symbolic link (copy the file or directory in instead)`);
      else if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) await walk(full);
      } else if (entry.isFile()) files.push(rel);
      else problems.push(`${rel}: not a regular file`);
    }
  };
  await walk(root);
  if (problems.length > 0)
    throw new SiteSourceError(
      `site source ${root} cannot be built: ${problems.sort(byteOrder).join('; ')}`,
    );
  if (files.length === 0)
    throw new SiteSourceError(
      `site source ${root} is empty: it needs at least one of themes/, plugins/, mu-plugins/ or site.yml`,
    );
  files.sort(byteOrder);
  const tree = createHash('sha256');
  for (const rel of files) {
    const digest = createHash('sha256')
      .update(await readFile(join(root, rel)))
      .digest('hex');
    tree.update(treeDigestLine(digest, rel));
  }
  return { dir: root, files, hash: `sha256:${tree.digest('hex')}` };
}

/** Where a staged source lives: one directory per content hash, under the local state. Pure. */
export function stagedSourceDir(stateDir: string, hash: string): string {
  const hex = /^sha256:([a-f0-9]{64})$/.exec(hash)?.[1];
  if (!hex) throw new SiteSourceError(`source hash must be sha256:<64 hex>, got ${hash}`);
  return join(stateDir, 'sources', hex);
}

/**
 * Copies a source into the local state under its hash (the local counterpart of the zip a
 * release uploads to the source bucket), so that a build reads exactly what was hashed even
 * if the directory changes meanwhile. A source already staged is kept as it is.
 */
export async function stageSiteSource(stateDir: string, dir: string): Promise<SiteSource> {
  const source = await readSiteSource(dir);
  const target = stagedSourceDir(stateDir, source.hash);
  if (await lstat(target).catch(() => undefined)) return { ...source, dir: target };
  const partial = `${target}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  for (const rel of source.files) {
    await mkdir(dirname(join(partial, rel)), { recursive: true });
    await cp(join(source.dir, rel), join(partial, rel));
  }
  const staged = await readSiteSource(partial);
  if (staged.hash !== source.hash) {
    await rm(partial, { recursive: true, force: true });
    throw new SiteSourceError(
      `site source ${source.dir} changed while it was being staged; release again once it is saved`,
    );
  }
  await rename(partial, target).catch(async (error: NodeJS.ErrnoException) => {
    await rm(partial, { recursive: true, force: true });
    // Another release staged the same content meanwhile.
    if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
  });
  return { ...source, dir: target };
}

/** The staged directory of a source hash, or a clear error when it was never staged. */
export async function stagedSource(stateDir: string, hash: string): Promise<string> {
  const dir = stagedSourceDir(stateDir, hash);
  if (!(await stat(dir).catch(() => undefined))?.isDirectory())
    throw new SiteSourceError(
      `source ${hash} is not staged in ${join(stateDir, 'sources')}: release it with \`stepdeploy local release --source <dir>\``,
    );
  return dir;
}

/** A short, label-safe name of a source hash (`site-<12 hex>`). Pure. */
export function sourceLabel(hash: string): string {
  return `site-${hash.replace(/^sha256:/, '').slice(0, 12)}`;
}
