import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// Static checks of the CodeBuild buildspec and the Packer template: the properties a
// release relies on and that no local build can exercise (pinned, verified Packer; no
// hidden exit codes; exported image variables; ECR push; cache).

const ROOT = resolve(import.meta.dirname, '../..');

interface Buildspec {
  version: number;
  env: { shell: string; variables: Record<string, string>; 'exported-variables': string[] };
  phases: Record<string, { commands: string[]; 'runtime-versions'?: Record<string, unknown> }>;
  cache?: { paths: string[] };
}

function load(): Buildspec {
  return parse(readFileSync(join(ROOT, 'buildspec/buildspec.yml'), 'utf8')) as Buildspec;
}

function script(spec: Buildspec, phase: string): string {
  return spec.phases[phase]?.commands.join('\n') ?? '';
}

describe('buildspec/buildspec.yml', () => {
  it('pins Packer by version and verifies the download against a sha256', () => {
    // Prepare
    const spec = load();

    // Act
    const install = script(spec, 'install');

    // Assess
    expect(spec.env.variables.PACKER_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    expect(spec.env.variables.PACKER_SHA256).toMatch(/^[0-9a-f]{64}$/);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell and HCL text, not a JS template
    expect(install).toContain('releases.hashicorp.com/packer/${PACKER_VERSION}/');
    expect(install).toMatch(
      /echo "\$\{PACKER_SHA256\} {2}\$\{zip\}" \| sha256sum --check --strict/,
    );
    // The checksum runs before the binary is unpacked.
    expect(install.indexOf('sha256sum --check')).toBeLessThan(install.indexOf('unzip'));
    expect(spec.env.variables.ANSIBLE_CORE_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell and HCL text, not a JS template
    expect(install).toContain('pip install --quiet "ansible-core==${ANSIBLE_CORE_VERSION}"');
  });

  it('fails on any failing command: bash with errexit, nounset and pipefail in every phase', () => {
    // Prepare
    const spec = load();

    // Act
    const phases = Object.entries(spec.phases);

    // Assess
    expect(spec.version).toBe(0.2);
    expect(spec.env.shell).toBe('bash');
    expect(phases.map(([name]) => name)).toEqual(['install', 'pre_build', 'build']);
    for (const [, phase] of phases) {
      expect(phase.commands.length).toBe(1);
      expect(phase.commands[0]?.trimStart().startsWith('set -euo pipefail')).toBe(true);
      // `|| true` and `; true` would swallow a failure.
      expect(phase.commands[0]).not.toMatch(/\|\|\s*true|;\s*true\b/);
    }
  });

  it('initialises the plugins, validates, then builds the base and app stages', () => {
    // Prepare
    const spec = load();

    // Act
    const pre = script(spec, 'pre_build');
    const build = script(spec, 'build');

    // Assess
    expect(pre).toContain('packer init packer/plugins');
    expect(pre.indexOf('packer init')).toBeLessThan(pre.indexOf('packer validate'));
    expect(pre).toMatch(/packer validate .* packer$/m);
    expect(build).toContain('packer build -color=false -only=docker.base');
    expect(build).toContain('packer build -color=false -only=docker.app');
    expect(build).toContain('packer/base-stage-hash.sh');
  });

  it('logs in to ECR and pushes with ecr_login', () => {
    // Prepare
    const spec = load();

    // Act
    const pre = script(spec, 'pre_build');
    const build = script(spec, 'build');

    // Assess
    expect(pre).toMatch(
      /aws ecr get-login-password --region "\$AWS_REGION"\s*\\\s*\n\s*\| docker login --username AWS --password-stdin "\$registry"/,
    );
    expect(build).toContain('-var "ecr_login=true"');
    expect(build).toContain('-var "registry=$registry"');
  });

  it('exports the pushed image URI and digest for startBuild.sync', () => {
    // Prepare
    const spec = load();

    // Act
    const build = script(spec, 'build');

    // Assess
    expect(spec.env['exported-variables']).toEqual(
      expect.arrayContaining(['IMAGE_URI', 'IMAGE_DIGEST']),
    );
    expect(build).toContain("docker image inspect --format '{{json .RepoDigests}}'");
    expect(build).toMatch(/\[\[ "\$IMAGE_DIGEST" =~ \^sha256:\[0-9a-f\]\{64\}\$ \]\]/);
    expect(build).toContain('export IMAGE_URI IMAGE_DIGEST IMAGE_TAG');
  });

  it('caches the Packer download and keeps the base stage in ECR by the hash of its inputs', () => {
    // Prepare
    const spec = load();

    // Act
    const build = script(spec, 'build');

    // Assess
    expect(spec.cache?.paths).toContain('/root/.cache/stepdeploy/**/*');
    expect(build).toContain('base_tag="base-$(packer/base-stage-hash.sh "$base_identity")"');
    expect(build).toMatch(/if docker pull --quiet "\$IMAGE_REPOSITORY_URI:\$base_tag"; then/);
  });
});

describe('packer/ template', () => {
  const template = readFileSync(join(ROOT, 'packer/wordpress.pkr.hcl'), 'utf8');
  const plugins = readFileSync(join(ROOT, 'packer/plugins/plugins.pkr.hcl'), 'utf8');

  it('keeps required_plugins out of the directory Packer 1.6.6 reads', () => {
    // Prepare / Act: the two files as written.

    // Assess
    for (const file of readdirSync(join(ROOT, 'packer')).filter((f) => f.endsWith('.pkr.hcl')))
      expect(readFileSync(join(ROOT, 'packer', file), 'utf8')).not.toMatch(
        /^\s*required_plugins\s*\{/m,
      );
    expect(plugins).toContain('required_plugins');
    expect(plugins).toContain('source  = "github.com/hashicorp/docker"');
    expect(plugins).toContain('source  = "github.com/hashicorp/ansible"');
  });

  it('labels the image with the source revision and runs it as non-root on 8080', () => {
    // Prepare / Act: the template as written.

    // Assess
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell and HCL text, not a JS template
    expect(template).toContain('"LABEL org.opencontainers.image.revision=${var.source_revision}"');
    expect(template).toContain('"EXPOSE 8080"');
    expect(template).toContain('"USER www-data"');
    expect(template).toMatch(/post-processor "docker-push"[\s\S]*ecr_login\s+= var\.ecr_login/);
    expect(template).toContain('post-processor "manifest"');
  });

  it('runs every build container at the CPU weight the caller sets (local builds yield to the site)', () => {
    // Prepare
    const sources = [...template.matchAll(/source "docker" "(\w+)" \{([\s\S]*?)\n\}/g)];
    const variables = readFileSync(join(ROOT, 'packer/variables.pkr.hcl'), 'utf8');

    // Act
    const withoutWeight = sources
      .filter(([, , body]) => !/\brun_command\s*=\s*local\.run_command\b/.test(body ?? ''))
      .map(([, name]) => name);

    // Assess
    expect(sources.map(([, name]) => name)).toEqual(['base', 'app']);
    expect(withoutWeight).toEqual([]);
    expect(template).toMatch(
      /run_command = \[[^\]]*"--cpu-shares=\$\{var\.build_cpu_shares\}"[^\]]*"\{\{\.Image\}\}"\]/,
    );
    expect(variables).toMatch(
      /variable "build_cpu_shares" \{\s*type\s*= number\s*default\s*= 1024/,
    );
  });
});
