import { describe, expect, it } from 'vitest';
import { addedPackages, yardstickDockerfile } from '../../../bench/lib/yardstick.ts';

const inputs = {
  baseImage: 'stepdeploy/base:trixie',
  packages: ['wordpress', 'apache2'],
  deleted: ['/etc/apache2/sites-enabled/000-default.conf'],
  phpFiles: ['/var/lib/wordpress/wp-content/db.php'],
  config: {
    ExposedPorts: { '8080/tcp': {} },
    Volumes: { '/tmp': {}, '/run': {} },
    User: 'www-data',
    WorkingDir: '/usr/share/wordpress',
    Entrypoint: ['/usr/local/bin/stepdeploy-entrypoint'],
    Cmd: ['apache2', '-DFOREGROUND'],
    Env: ['LANG=C.UTF-8'],
    Labels: { 'org.opencontainers.image.revision': 'r1' },
  },
};

describe('yardstickDockerfile', () => {
  it('installs the packages in one layer, then adds the app layer and runs the checks', () => {
    // Act
    const lines = yardstickDockerfile(inputs).split('\n');
    // Assess
    expect(lines[1]).toBe('FROM stepdeploy/base:trixie');
    expect(lines.find((l) => l.includes('>/dev/null'))?.trim()).toBe(
      'apache2 wordpress >/dev/null \\',
    );
    const add = lines.indexOf('ADD app-layer.tar /');
    expect(add).toBeGreaterThan(1);
    expect(lines[add + 1]).toBe(
      'RUN set -e; rm -rf "/etc/apache2/sites-enabled/000-default.conf" && ' +
        'WORDPRESS_ENTRYPOINT_QUIET=1 /usr/local/bin/stepdeploy-entrypoint apache2 -t && ' +
        'php -l "/var/lib/wordpress/wp-content/db.php" >/dev/null && rm -rf /tmp/apache2',
    );
  });

  it.each([
    ['ENV LANG="C.UTF-8"'],
    ['EXPOSE 8080/tcp'],
    ['VOLUME ["/tmp","/run"]'],
    ['USER www-data'],
    ['WORKDIR /usr/share/wordpress'],
    ['ENTRYPOINT ["/usr/local/bin/stepdeploy-entrypoint"]'],
    ['CMD ["apache2","-DFOREGROUND"]'],
    ['LABEL "org.opencontainers.image.revision"="r1"'],
  ])('repeats the image metadata: %s', (line) => {
    // Act / Assess
    expect(yardstickDockerfile(inputs).split('\n')).toContain(line);
  });

  it('refuses a base stage that installed nothing (a wrong image, not a yardstick)', () => {
    // Act / Assess
    expect(() => yardstickDockerfile({ ...inputs, packages: [] })).toThrow(/no package/);
  });
});

describe('addedPackages', () => {
  it.each([
    [['a', 'b', 'c'], ['b'], ['a', 'c']],
    [['b', 'a', 'a', ''], [], ['a', 'b']],
    [['a'], ['a'], []],
  ])('%j over %j is %j', (stage, base, expected) => {
    // Act / Assess
    expect(addedPackages(stage, base)).toEqual(expected);
  });
});
