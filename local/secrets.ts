import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A secret file is readable by others than its owner, so it is refused. */
export class InsecureSecretFileError extends Error {
  constructor(path: string, mode: number) {
    super(
      `secret file ${path} has mode ${(mode & 0o777).toString(8)}; expected 600 (chmod 600 it)`,
    );
    this.name = 'InsecureSecretFileError';
  }
}

/** A random password of URL- and SQL-safe characters. */
export function generatePassword(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * Writes a secret to `path` with mode 600 (created 600 and renamed into place, so the value is
 * never readable by others, even briefly). The directory is created 700 when missing.
 */
export async function writeSecret(path: string, value: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(value);
    await fh.chmod(0o600);
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await chmod(path, 0o600);
}

/** Reads a secret file, refusing one whose mode lets group or others read it. */
export async function readSecret(path: string): Promise<string> {
  const st = await stat(path);
  if ((st.mode & 0o077) !== 0) throw new InsecureSecretFileError(path, st.mode);
  return (await readFile(path, 'utf8')).replace(/\n$/, '');
}

/** Returns the secret at `path`, generating and storing a new password when absent. */
export async function ensureSecret(
  path: string,
  generate = () => generatePassword(),
): Promise<string> {
  try {
    return await readSecret(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await writeSecret(path, generate());
    return readSecret(path);
  }
}
