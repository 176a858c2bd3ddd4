import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { filesUnder, hashFiles } from '#local/content-hash.ts';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'sdt-hash-'));
  await mkdir(join(root, 'roles', 'tasks'), { recursive: true });
  await writeFile(join(root, 'Dockerfile'), 'FROM base\n');
  await writeFile(join(root, 'roles', 'tasks', 'main.yml'), '- name: a\n');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const keyOf = async (dir: string, seed = '') => hashFiles(dir, await filesUnder(dir), seed);

describe('filesUnder', () => {
  it('lists regular files recursively, sorted, leaving out skipped directories', async () => {
    // Prepare
    await mkdir(join(root, 'roles', '__pycache__'));
    await writeFile(join(root, 'roles', '__pycache__', 'x.pyc'), 'cache');
    await mkdir(join(root, '.cache'));
    await writeFile(join(root, '.cache', 'y'), 'cache');

    // Act
    const all = await filesUnder(root);
    const inputs = await filesUnder(root, /(^|\/)(\.cache|__pycache__)(\/|$)/);

    // Assess
    expect(all.map((f) => f.slice(root.length + 1))).toEqual([
      '.cache/y',
      'Dockerfile',
      'roles/__pycache__/x.pyc',
      'roles/tasks/main.yml',
    ]);
    expect(inputs.map((f) => f.slice(root.length + 1))).toEqual([
      'Dockerfile',
      'roles/tasks/main.yml',
    ]);
  });
});

describe('hashFiles', () => {
  const changes: readonly { name: string; change: () => Promise<unknown>; seed?: string }[] = [
    { name: 'a byte of a file', change: () => writeFile(join(root, 'Dockerfile'), 'FROM base2\n') },
    {
      name: "a file's name",
      change: async () => {
        await rm(join(root, 'Dockerfile'));
        await writeFile(join(root, 'Containerfile'), 'FROM base\n');
      },
    },
    { name: "a file's mode", change: () => chmod(join(root, 'Dockerfile'), 0o755) },
    { name: 'a new file', change: () => writeFile(join(root, 'roles', 'extra.yml'), '') },
    { name: 'the seed', change: async () => undefined, seed: 'revision v2\n' },
  ];

  it.each(changes)('changes with $name', async ({ change, seed }) => {
    // Prepare
    await chmod(join(root, 'Dockerfile'), 0o644);
    const before = await keyOf(root);

    // Act
    await change();
    const after = await keyOf(root, seed);

    // Assess
    expect(after).toMatch(/^[0-9a-f]{64}$/);
    expect(after).not.toBe(before);
  });

  it('is the same for the same content in another directory', async () => {
    // Prepare
    const copy = await mkdtemp(join(tmpdir(), 'sdt-hash-copy-'));
    await mkdir(join(copy, 'roles', 'tasks'), { recursive: true });
    await writeFile(join(copy, 'roles', 'tasks', 'main.yml'), '- name: a\n');
    await writeFile(join(copy, 'Dockerfile'), 'FROM base\n');
    await chmod(join(root, 'Dockerfile'), 0o644);
    await chmod(join(copy, 'Dockerfile'), 0o644);
    await chmod(join(root, 'roles', 'tasks', 'main.yml'), 0o644);
    await chmod(join(copy, 'roles', 'tasks', 'main.yml'), 0o644);

    // Act
    const [a, b] = [await keyOf(root), await keyOf(copy)];
    await rm(copy, { recursive: true, force: true });

    // Assess
    expect(a).toBe(b);
  });
});
