import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalConfigError, loadConfig, PROJECT_ROOT } from '#local/config.ts';

describe('local configuration from the environment', () => {
  it('defaults every setting when nothing is set', () => {
    // Act
    const config = loadConfig({}, {});

    // Assess
    expect(config).toEqual({
      stateDir: join(PROJECT_ROOT, '.stepdeploy'),
      service: 'wordpress',
      sitePort: 8080,
      registryPort: 5000,
      databasePort: 13306,
      taskPortBase: 18000,
      baseImage: 'stepdeploy/base:trixie',
      timeFactor: 0.5,
    });
  });

  it('reads the variables, and explicit overrides win over them', () => {
    // Prepare
    const env = {
      STEPDEPLOY_HOME: '/tmp/sd-home',
      STEPDEPLOY_SERVICE: 'blog',
      STEPDEPLOY_SITE_PORT: '9080',
      STEPDEPLOY_DB_PORT: '',
      STEPDEPLOY_TIME_FACTOR: '1',
    };

    // Act
    const config = loadConfig({ sitePort: 9999 }, env);

    // Assess
    expect(config).toMatchObject({
      stateDir: '/tmp/sd-home',
      service: 'blog',
      sitePort: 9999,
      databasePort: 13306,
      timeFactor: 1,
    });
  });

  it.each([
    ['STEPDEPLOY_SITE_PORT', '0'],
    ['STEPDEPLOY_REGISTRY_PORT', '65536'],
    ['STEPDEPLOY_DB_PORT', 'mysql'],
    ['STEPDEPLOY_TASK_PORT_BASE', '18000.5'],
  ])('refuses %s=%s, naming the variable and the ports it takes', (name, raw) => {
    // Act
    const load = () => loadConfig({}, { [name]: raw });

    // Assess
    expect(load).toThrow(LocalConfigError);
    expect(load).toThrow(`environment variable ${name} must be a TCP port (1-65535), got ${raw}`);
  });
});
