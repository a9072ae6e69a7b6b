import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { baseConfigSchema, ssoAddressConfigSchema } from './base.config.js';
import { wholeNumberVariable } from './env-values.js';
import { composeConfig, ConfigError, defineConfig, loadConfig } from './load-config.js';

const ssoChecks = defineConfig(
  z
    .object({ SAML_CLOCK_SKEW_MS: wholeNumberVariable(0, 300_000, 60_000) })
    .transform((env) => ({ sso: { clockSkewMs: env.SAML_CLOCK_SKEW_MS } })),
);
const ssoApp = composeConfig(baseConfigSchema, ssoAddressConfigSchema, ssoChecks);
const adminApp = composeConfig(baseConfigSchema, ssoAddressConfigSchema);

describe('composed configuration', () => {
  it('merges the groups two schemas fill in, and freezes them', () => {
    const config = loadConfig(composeConfig(adminApp, ssoApp), { SSO_PORT: '9001' });
    expect(config.sso).toEqual({
      port: 9001,
      baseUrl: 'http://localhost:9001',
      clockSkewMs: 60_000,
    });
    expect(Object.isFrozen(config.sso)).toBe(true);
    expect(Object.isFrozen(config.database)).toBe(true);
  });

  it('parses a schema two apps share once, so a bad variable is named once', () => {
    const schema = composeConfig(adminApp, ssoApp);
    expect(schema.parts).toHaveLength(3);
    let error: unknown;
    try {
      loadConfig(schema, { LOG_LEVEL: 'loud', SAML_CLOCK_SKEW_MS: 'x' });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((issue) => issue.split(':')[0])).toEqual([
      'LOG_LEVEL',
      'SAML_CLOCK_SKEW_MS',
    ]);
  });

  it('reads only the variables of its own schemas', () => {
    expect(() => loadConfig(adminApp, { SAML_CLOCK_SKEW_MS: 'x' })).not.toThrow();
  });
});
