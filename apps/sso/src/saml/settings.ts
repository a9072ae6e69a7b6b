import { readFileSync } from 'node:fs';
import { loadConfig } from '@roster/core';
import { samlConfigSchema, type SamlSettings } from '../config.js';

/** The service provider's key pair: decrypts EncryptedAssertions, signs AuthnRequests. */
export interface SpKeyPair {
  readonly privateKey: string;
  readonly certificate: string;
}

/** Everything the SSO app's SAML code is told from outside (config, or a test). */
export interface SsoSettings {
  readonly clockSkewMs: number;
  readonly maxAssertionAgeMs: number;
  readonly requestTtlMs: number;
  readonly sessionIdleTimeoutMs: number;
  readonly sessionAbsoluteTimeoutMs: number;
  readonly spKeyPair: SpKeyPair | undefined;
  /** How long an OpenID Provider trusts its signing keys before it looks for a rotation. */
  readonly oidcKeyRecheckIntervalMs: number;
}

/** A rotation (`roster oidc rotate-keys`) reaches every instance within this time. */
export const OIDC_KEY_RECHECK_INTERVAL_MS = 10_000;

/** The defaults of the config schema, for apps built without a config (tests). */
export const DEFAULT_SSO_SETTINGS: SsoSettings = ssoSettingsFrom(loadConfig(samlConfigSchema, {}));

/** Settings from the configuration; the SP key files are read now, so a bad path stops the start. */
export function ssoSettingsFrom(config: { readonly sso: SamlSettings } | undefined): SsoSettings {
  if (!config) return DEFAULT_SSO_SETTINGS;
  const sso: SamlSettings = config.sso;
  return {
    clockSkewMs: sso.clockSkewMs,
    maxAssertionAgeMs: sso.maxAssertionAgeMs,
    requestTtlMs: sso.requestTtlMs,
    sessionIdleTimeoutMs: sso.sessionIdleTimeoutMs,
    sessionAbsoluteTimeoutMs: sso.sessionAbsoluteTimeoutMs,
    oidcKeyRecheckIntervalMs: OIDC_KEY_RECHECK_INTERVAL_MS,
    spKeyPair:
      sso.spPrivateKeyFile && sso.spCertificateFile
        ? {
            privateKey: readPem(
              sso.spPrivateKeyFile,
              'SSO_SP_PRIVATE_KEY_FILE',
              /PRIVATE KEY-----/,
            ),
            certificate: readPem(
              sso.spCertificateFile,
              'SSO_SP_CERTIFICATE_FILE',
              /BEGIN CERTIFICATE-----/,
            ),
          }
        : undefined,
  };
}

function readPem(file: string, variable: string, expected: RegExp): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`${variable}: cannot read ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!expected.test(text)) throw new Error(`${variable}: ${file} is not the expected PEM file`);
  return text;
}
