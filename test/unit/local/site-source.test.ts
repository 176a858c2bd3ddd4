import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ansibleFailure } from '#local/packer.ts';
import { localReleaseInput } from '#local/release.ts';
import {
  byteOrder,
  DEFAULT_SITE_DIR,
  readSiteSource,
  SiteSourceError,
  sourceLabel,
  stagedSource,
  stageSiteSource,
} from '#local/site-source.ts';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const scratch: string[] = [];

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sd-site-'));
  scratch.push(dir);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return dir;
}

const shellHash = (dir: string) =>
  execFileSync(join(ROOT, 'packer', 'site-hash.sh'), [dir], { encoding: 'utf8' }).trim();

afterEach(() => {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('site source hash', () => {
  it.each([
    ['the repository site/', null],
    [
      'paths whose byte order differs from a naive sort',
      { 'a-b/x.php': '1', 'a/b.php': '2', 'a.php': '3', 'A.php': '4', 'mu-plugins/z.php': '' },
    ],
    [
      'nested plugin with .git left out',
      { 'plugins/p/p.php': '<?php', 'plugins/p/.git/HEAD': 'x' },
    ],
    ['names with spaces and unicode', { 'themes/t é/style.css': '/* */', 'site.yml': 'theme: t' }],
  ])('%s: Node and packer/site-hash.sh agree', async (_name, files) => {
    // Prepare
    const dir = files ? tree(files) : DEFAULT_SITE_DIR;
    // Act
    const source = await readSiteSource(dir);
    // Assess
    expect(source.hash).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(source.hash).toBe(shellHash(dir));
    expect([...source.files].sort(byteOrder)).toEqual(source.files);
    expect(source.files.some((f) => f.includes('.git/'))).toBe(false);
  });

  it('changes with a file content, a file name and a new file, not with .git', async () => {
    // Prepare
    const base = { 'themes/t/style.css': 'a', 'site.yml': 'theme: t' };
    const hashes = await Promise.all(
      (
        [
          base,
          { ...base, 'themes/t/style.css': 'b' },
          { 'themes/t/main.css': 'a', 'site.yml': 'theme: t' },
          { ...base, 'mu-plugins/m.php': '' },
          { ...base, '.git/config': 'x' },
        ] as Record<string, string>[]
      ).map(async (files) => (await readSiteSource(tree(files))).hash),
    );
    // Assess
    expect(new Set(hashes.slice(0, 4)).size).toBe(4);
    expect(hashes[4]).toBe(hashes[0]);
  });

  it.each([
    ['a missing directory', () => join(tmpdir(), 'sd-site-missing-dir'), /is not a directory/],
    ['an empty directory', () => tree({}), /is empty: it needs at least one of themes\//],
    [
      'a symbolic link',
      () => {
        const dir = tree({ 'themes/t/style.css': 'a' });
        symlinkSync('/etc/passwd', join(dir, 'themes', 't', 'leak.txt'));
        return dir;
      },
      /themes\/t\/leak\.txt: a symbolic link/,
    ],
    ['a name with a newline', () => tree({ 'mu-plugins/a\nb.php': '' }), /a name with a newline/],
  ])('refuses %s with what to change', async (_name, make, message) => {
    // Act / Assess
    const read = readSiteSource(make());
    await expect(read).rejects.toBeInstanceOf(SiteSourceError);
    await expect(readSiteSource(make())).rejects.toThrow(message);
  });
});

describe('staging a source under its hash', () => {
  it('copies exactly the hashed files once, and finds them by hash', async () => {
    // Prepare
    const state = tree({ '.keep': '' });
    const dir = tree({ 'themes/t/style.css': 'a', 'plugins/p/.git/HEAD': 'x' });
    // Act
    const first = await stageSiteSource(state, dir);
    const second = await stageSiteSource(state, dir);
    const found = await stagedSource(state, first.hash);
    // Assess
    expect(second.dir).toBe(first.dir);
    expect(found).toBe(first.dir);
    expect((await readSiteSource(found)).hash).toBe(first.hash);
    expect(existsSync(join(found, 'plugins'))).toBe(false);
    expect(readdirSync(join(state, 'sources'))).toEqual([first.hash.slice('sha256:'.length)]);
    expect(sourceLabel(first.hash)).toBe(`site-${first.hash.slice(7, 19)}`);
  });

  it('names a source that was never staged, and a malformed hash', async () => {
    // Prepare
    const state = tree({ '.keep': '' });
    // Act / Assess
    await expect(stagedSource(state, `sha256:${'0'.repeat(64)}`)).rejects.toThrow(
      /is not staged in .*sources: release it with `stepdeploy local release --source <dir>`/,
    );
    await expect(stagedSource(state, 'v2')).rejects.toThrow(/must be sha256:<64 hex>, got v2/);
  });
});

describe('the local release input of a site source', () => {
  it('carries the label in the object key and the content hash as its version', () => {
    // Act
    const input = localReleaseInput(
      { kind: 'revision', label: 'v2' },
      'me',
      {},
      `sha256:${'a'.repeat(64)}`,
    );
    // Assess
    expect(input.source).toEqual({
      type: 's3',
      key: 'local/v2.zip',
      versionId: `sha256:${'a'.repeat(64)}`,
    });
    expect(() => localReleaseInput({ kind: 'revision', label: 'v2' }, 'me')).toThrow(
      /needs the hash it was staged under/,
    );
  });
});

describe('the reason an image build failed, from its log', () => {
  it.each([
    [
      'a failed assertion or fail task: its msg',
      [
        '    docker.app: fatal: [default]: FAILED! => {"changed": false, "msg": "site PHP does not parse: x"}',
      ],
      'site PHP does not parse: x',
    ],
    [
      'a failed command: its stderr rather than "non-zero return code"',
      [
        'docker.app: fatal: [default]: FAILED! => {"changed": false, "msg": "first"}',
        'docker.app: fatal: [default]: FAILED! => {"rc": 3, "stderr": "theme x is missing", "msg": "non-zero return code"}',
      ],
      'theme x is missing',
    ],
    [
      'a looped task: every failed item, in order, and nothing of earlier tasks',
      [
        'docker.app: failed: [default] (item=old) => {"msg": "an earlier task"}',
        'docker.app: TASK [wordpress : Check each active plugin] ****',
        'docker.app: failed: [default] (item=a) => {"changed": false, "msg": "site/plugins/a has no main file"}',
        'docker.app: ok: [default] => (item=b)',
        'docker.app: failed: [default] (item=c) => {"changed": false, "msg": "plugin c is not in site/plugins/"}',
        'docker.app: PLAY RECAP ****',
      ],
      'site/plugins/a has no main file; plugin c is not in site/plugins/',
    ],
    ['no failed task', ['==> docker.app: Killing the container'], undefined],
  ])('%s', (_name, lines, expected) => {
    // Act / Assess
    expect(ansibleFailure(lines)).toBe(expected);
  });
});
