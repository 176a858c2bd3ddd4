import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureSecret, InsecureSecretFileError, readSecret, writeSecret } from '#local/secrets.ts';

describe('secrets', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sd-secrets-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes mode 600 and reads the value back', async () => {
    // Act
    await writeSecret(join(dir, 's', 'db'), 'hunter2');

    // Assess
    expect((await stat(join(dir, 's', 'db'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 's'))).mode & 0o777).toBe(0o700);
    expect(await readSecret(join(dir, 's', 'db'))).toBe('hunter2');
  });

  it('refuses to read a file others can read', async () => {
    // Prepare
    const path = join(dir, 'open');
    await writeFile(path, 'x');
    await chmod(path, 0o644);

    // Act / Assess
    await expect(readSecret(path)).rejects.toBeInstanceOf(InsecureSecretFileError);
  });

  it('generates a secret once and keeps it', async () => {
    // Act
    const first = await ensureSecret(join(dir, 'gen'));
    const second = await ensureSecret(join(dir, 'gen'));

    // Assess
    expect(first).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(second).toBe(first);
  });
});
