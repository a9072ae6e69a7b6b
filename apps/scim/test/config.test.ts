import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig as loadConfigOf } from '@roster/core';
import { scimConfigSchema } from '../src/config.js';

const loadConfig = (env: NodeJS.ProcessEnv) => loadConfigOf(scimConfigSchema, env);

function issuesFor(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('SCIM request log and rate limit settings', () => {
  it('keeps the log 7 days and limits each tenant to 1000/s with a burst of 2000 by default', () => {
    const config = loadConfig({});
    expect(config.scimLogRetentionDays).toBe(7);
    expect(config.scimRateLimit).toEqual({ perSecond: 1000, burst: 2000 });
  });

  it('treats blank values as unset', () => {
    const config = loadConfig({
      SCIM_LOG_RETENTION_DAYS: ' ',
      SCIM_RATE_LIMIT_PER_SECOND: '',
      SCIM_RATE_LIMIT_BURST: '',
    });
    expect(config.scimLogRetentionDays).toBe(7);
    expect(config.scimRateLimit).toEqual({ perSecond: 1000, burst: 2000 });
  });

  it('reads the values, and 0 turns the log or the limit off', () => {
    expect(loadConfig({ SCIM_LOG_RETENTION_DAYS: '30' }).scimLogRetentionDays).toBe(30);
    expect(loadConfig({ SCIM_LOG_RETENTION_DAYS: '0' }).scimLogRetentionDays).toBe(0);
    expect(
      loadConfig({ SCIM_RATE_LIMIT_PER_SECOND: '5', SCIM_RATE_LIMIT_BURST: '20' }).scimRateLimit,
    ).toEqual({ perSecond: 5, burst: 20 });
    expect(loadConfig({ SCIM_RATE_LIMIT_PER_SECOND: '0' }).scimRateLimit).toBeNull();
    expect(loadConfig({ SCIM_RATE_LIMIT_BURST: '0' }).scimRateLimit).toBeNull();
  });

  it('makes the default burst at least one second of the sustained rate', () => {
    expect(loadConfig({ SCIM_RATE_LIMIT_PER_SECOND: '5000' }).scimRateLimit).toEqual({
      perSecond: 5000,
      burst: 5000,
    });
  });

  it('refuses a burst smaller than the rate, negative or fractional values, and a retention over a year', () => {
    expect(issuesFor({ SCIM_RATE_LIMIT_PER_SECOND: '10', SCIM_RATE_LIMIT_BURST: '5' })).toEqual([
      expect.stringMatching(/^SCIM_RATE_LIMIT_BURST: must be at least SCIM_RATE_LIMIT_PER_SECOND/),
    ]);
    expect(issuesFor({ SCIM_RATE_LIMIT_PER_SECOND: '-1' })[0]).toMatch(
      /^SCIM_RATE_LIMIT_PER_SECOND:/,
    );
    expect(issuesFor({ SCIM_RATE_LIMIT_BURST: '1.5' })[0]).toMatch(/^SCIM_RATE_LIMIT_BURST:/);
    expect(issuesFor({ SCIM_LOG_RETENTION_DAYS: '366' })[0]).toMatch(/^SCIM_LOG_RETENTION_DAYS:/);
    expect(issuesFor({ SCIM_LOG_RETENTION_DAYS: 'week' })[0]).toMatch(/^SCIM_LOG_RETENTION_DAYS:/);
  });
});
