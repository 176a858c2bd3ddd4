import { describe, expect, it } from 'vitest';
import { HOST_TOOLS, packagesFor } from '#local/engine.ts';

describe('packagesFor', () => {
  it.each([
    { missing: [], expected: [] },
    { missing: ['dockerd'], expected: ['docker.io'] },
    { missing: ['packer', 'ansible-playbook'], expected: ['packer', 'ansible-core'] },
    {
      missing: ['dockerd', 'packer', 'ansible-playbook', 'debootstrap'],
      expected: ['docker.io', 'packer', 'ansible-core', 'debootstrap'],
    },
    { missing: ['packer', 'packer'], expected: ['packer'] },
  ])('$missing → $expected', ({ missing, expected }) => {
    // Prepare: the commands found missing on the host. Act
    const packages = packagesFor(missing);
    // Assess
    expect(packages).toEqual(expected);
  });

  it('covers every host command local mode runs', () => {
    // Prepare + Act: the table of host tools
    const commands = Object.keys(HOST_TOOLS);
    // Assess: Docker, Packer with its Ansible provisioner, and the base-image bootstrap
    expect(commands).toEqual(['dockerd', 'packer', 'ansible-playbook', 'debootstrap']);
  });
});
