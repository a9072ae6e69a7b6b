import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig as loadConfigOf } from '@roster/core';
import { serverConfigSchema } from '../src/config.js';

const loadConfig = (env: NodeJS.ProcessEnv) => loadConfigOf(serverConfigSchema, env);

const GOOD_TOKEN = 'a-perfectly-long-admin-token-0123456789';

/** Runs `loadConfig(env)` and returns the ConfigError it throws (fails the test if none). */
function configErrorFor(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig defaults', () => {
  it('listens on 8080/8081/8082 with base URLs on localhost when nothing is set', () => {
    const config = loadConfig({});
    expect(config.scim).toEqual({ port: 8080, baseUrl: 'http://localhost:8080' });
    expect(config.sso).toMatchObject({ port: 8081, baseUrl: 'http://localhost:8081' });
    expect(config.admin).toEqual({ host: '127.0.0.1', port: 8082, token: undefined });
    expect(config.host).toBe('0.0.0.0');
    expect(config.logLevel).toBe('info');
    expect(config.shutdownTimeoutMs).toBe(10_000);
    expect(config.nodeEnv).toBe('development');
  });

  it('derives the default base URLs from the configured ports', () => {
    const config = loadConfig({ SCIM_PORT: '9000', SSO_PORT: '9001', ADMIN_PORT: '9002' });
    expect(config.scim).toEqual({ port: 9000, baseUrl: 'http://localhost:9000' });
    expect(config.sso).toMatchObject({ port: 9001, baseUrl: 'http://localhost:9001' });
    expect(config.admin.port).toBe(9002);
  });

  it('resolves the data folder to an absolute path and keeps the embedded database in <dataDir>/db', () => {
    const config = loadConfig({});
    expect(path.isAbsolute(config.dataDir)).toBe(true);
    expect(config.dataDir).toBe(path.resolve('.roster'));
    expect(config.database).toEqual({ kind: 'pglite', dataDir: path.join(config.dataDir, 'db') });
  });

  it('resolves a relative ROSTER_DATA_DIR against the working directory', () => {
    const config = loadConfig({ ROSTER_DATA_DIR: 'some/where' });
    expect(config.dataDir).toBe(path.resolve('some/where'));
    expect(config.database).toEqual({ kind: 'pglite', dataDir: path.resolve('some/where', 'db') });
  });

  it('targets PostgreSQL with the pool size when DATABASE_URL is set', () => {
    const url = 'postgres://roster:secret@db.internal:5432/roster';
    expect(loadConfig({ DATABASE_URL: url }).database).toEqual({
      kind: 'postgres',
      url,
      poolMax: 10,
    });
    expect(loadConfig({ DATABASE_URL: url, DATABASE_POOL_MAX: '25' }).database).toEqual({
      kind: 'postgres',
      url,
      poolMax: 25,
    });
    const postgresql = 'postgresql://db.internal/roster';
    expect(loadConfig({ DATABASE_URL: postgresql }).database).toEqual({
      kind: 'postgres',
      url: postgresql,
      poolMax: 10,
    });
  });

  it('reads every other variable it knows', () => {
    const config = loadConfig({
      HOST: '127.0.0.2',
      ADMIN_HOST: '0.0.0.0',
      ROSTER_ADMIN_TOKEN: GOOD_TOKEN,
      LOG_LEVEL: 'debug',
      SHUTDOWN_TIMEOUT_MS: '2500',
      NODE_ENV: 'production',
    });
    expect(config.host).toBe('127.0.0.2');
    expect(config.admin).toEqual({ host: '0.0.0.0', port: 8082, token: GOOD_TOKEN });
    expect(config.logLevel).toBe('debug');
    expect(config.shutdownTimeoutMs).toBe(2500);
    expect(config.nodeEnv).toBe('production');
  });

  it('reads ROSTER_OUTBOUND_ALLOW_HOSTS as addresses and ranges, unset by default', () => {
    expect(loadConfig({}).outboundAllowHosts).toBeUndefined();
    expect(loadConfig({ ROSTER_OUTBOUND_ALLOW_HOSTS: ' ' }).outboundAllowHosts).toBeUndefined();
    expect(
      loadConfig({ ROSTER_OUTBOUND_ALLOW_HOSTS: ' 10.0.0.0/8, ::1,[fd00::5] ' }).outboundAllowHosts,
    ).toBe('10.0.0.0/8,::1,fd00::5');
  });

  it('treats empty strings as unset for text, URL and choice variables', () => {
    const config = loadConfig({
      DATABASE_URL: '',
      ROSTER_DATA_DIR: '',
      HOST: '',
      ADMIN_HOST: '',
      SCIM_BASE_URL: '',
      SSO_BASE_URL: '',
      ROSTER_ADMIN_TOKEN: '',
      LOG_LEVEL: '',
      NODE_ENV: '',
    });
    expect(config).toEqual(loadConfig({}));
  });

  it('treats blank values (only spaces) as unset too', () => {
    const config = loadConfig({ SCIM_PORT: '  ', LOG_LEVEL: ' ' });
    expect(config.scim.port).toBe(8080);
    expect(config.logLevel).toBe('info');
  });

  // Regression: z.coerce.number() alone reads '' as 0, so SCIM_PORT= used to mean port 0.
  it('treats empty strings as unset for numeric variables too', () => {
    const config = loadConfig({
      SCIM_PORT: '',
      SSO_PORT: '',
      ADMIN_PORT: '',
      DATABASE_POOL_MAX: '',
      SHUTDOWN_TIMEOUT_MS: '',
      DATABASE_URL: 'postgres://db.internal/roster',
    });
    expect(config.scim.port).toBe(8080);
    expect(config.sso.port).toBe(8081);
    expect(config.admin.port).toBe(8082);
    expect(config.shutdownTimeoutMs).toBe(10_000);
    expect(config.database).toMatchObject({ poolMax: 10 });
  });

  it('strips trailing slashes from configured base URLs', () => {
    const config = loadConfig({
      SCIM_BASE_URL: 'https://scim.example.com/',
      SSO_BASE_URL: 'https://example.com/roster/sso//',
    });
    expect(config.scim.baseUrl).toBe('https://scim.example.com');
    expect(config.sso.baseUrl).toBe('https://example.com/roster/sso');
  });

  it('returns a frozen config, nested objects included', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.scim)).toBe(true);
    expect(Object.isFrozen(config.sso)).toBe(true);
    expect(Object.isFrozen(config.admin)).toBe(true);
    expect(() => {
      (config as { host: string }).host = 'evil';
    }).toThrow(TypeError);
    expect(() => {
      (config.scim as { port: number }).port = 1;
    }).toThrow(TypeError);
  });
});

describe('loadConfig errors', () => {
  it.each([
    ['SCIM_PORT', 'abc'],
    ['SCIM_PORT', '70000'],
    ['SCIM_PORT', '80.5'],
    ['SSO_PORT', '-1'],
    ['ADMIN_PORT', '65536'],
    ['LOG_LEVEL', 'loud'],
    ['NODE_ENV', 'staging'],
    ['DATABASE_URL', 'mysql://x'],
    ['DATABASE_URL', 'not a url'],
    ['DATABASE_POOL_MAX', '1'],
    ['SCIM_BASE_URL', 'not-a-url'],
    ['SSO_BASE_URL', 'ftp://files.example.com'],
    ['ROSTER_ADMIN_TOKEN', 'too-short'],
    ['SHUTDOWN_TIMEOUT_MS', 'soon'],
    ['ROSTER_OUTBOUND_ALLOW_HOSTS', 'idp.internal'],
    ['ROSTER_OUTBOUND_ALLOW_HOSTS', '10.0.0.0/8,10.0.0.0/40'],
  ])('rejects %s=%s with a ConfigError naming the variable', (variable, value) => {
    const error = configErrorFor({ [variable]: value });
    expect(error.name).toBe('ConfigError');
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatch(new RegExp(`^${variable}: `));
    expect(error.message).toContain(variable);
  });

  it('names the bad entry of ROSTER_OUTBOUND_ALLOW_HOSTS', () => {
    expect(configErrorFor({ ROSTER_OUTBOUND_ALLOW_HOSTS: '10.0.0.1, localhost' }).message).toMatch(
      /ROSTER_OUTBOUND_ALLOW_HOSTS: "localhost" is not an IP address or CIDR range/,
    );
  });

  it('shows the rejected value of an ordinary variable', () => {
    expect(configErrorFor({ LOG_LEVEL: 'loud' }).message).toContain('"loud"');
    expect(configErrorFor({ SCIM_PORT: '70000' }).message).toContain('"70000"');
  });

  it('never echoes a token or a database URL, which may hold secrets', () => {
    const token = 'shhh-secret';
    const url = 'mysql://root:hunter2@db/roster';
    const error = configErrorFor({ ROSTER_ADMIN_TOKEN: token, DATABASE_URL: url });
    expect(error.message).not.toContain(token);
    expect(error.message).not.toContain('hunter2');
    expect(error.message).toContain('ROSTER_ADMIN_TOKEN');
    expect(error.message).toContain('DATABASE_URL');
  });

  it('names every bad variable when several are wrong at once', () => {
    const error = configErrorFor({
      SCIM_PORT: 'abc',
      SSO_PORT: '70000',
      LOG_LEVEL: 'loud',
      DATABASE_URL: 'mysql://x',
      SCIM_BASE_URL: 'not-a-url',
      ROSTER_ADMIN_TOKEN: 'short',
    });
    const named = error.issues.map((issue) => issue.split(':')[0]);
    expect(named.sort()).toEqual([
      'DATABASE_URL',
      'LOG_LEVEL',
      'ROSTER_ADMIN_TOKEN',
      'SCIM_BASE_URL',
      'SCIM_PORT',
      'SSO_PORT',
    ]);
    for (const variable of named) expect(error.message).toContain(variable);
  });

  it('accepts an admin token of exactly 24 characters', () => {
    expect(loadConfig({ ROSTER_ADMIN_TOKEN: 'x'.repeat(24) }).admin.token).toBe('x'.repeat(24));
    expect(configErrorFor({ ROSTER_ADMIN_TOKEN: 'x'.repeat(23) }).issues[0]).toMatch(
      /^ROSTER_ADMIN_TOKEN: /,
    );
  });
});

describe('SAML and SSO session settings', () => {
  it('defaults to a 60 s clock skew, 5 min assertion age, 15 min requests, 8 h idle and 24 h sessions', () => {
    expect(loadConfig({}).sso).toMatchObject({
      clockSkewMs: 60_000,
      maxAssertionAgeMs: 300_000,
      requestTtlMs: 900_000,
      sessionIdleTimeoutMs: 28_800_000,
      sessionAbsoluteTimeoutMs: 86_400_000,
      spPrivateKeyFile: undefined,
      spCertificateFile: undefined,
    });
  });

  it('refuses a clock skew over 5 minutes and an SP key without its certificate', () => {
    expect(configErrorFor({ SAML_CLOCK_SKEW_MS: '600000' }).issues[0]).toMatch(
      /^SAML_CLOCK_SKEW_MS: /,
    );
    expect(configErrorFor({ SSO_SP_PRIVATE_KEY_FILE: '/x/key.pem' }).issues[0]).toMatch(
      /SSO_SP_CERTIFICATE_FILE: give both/,
    );
  });
});
