// The SSO app's configuration: the shared base, its address, and the SAML service provider's
// checks and session lifetimes (README "SSO configuration and limits").
import { z } from 'zod';
import {
  baseConfigSchema,
  composeConfig,
  defineConfig,
  type InferConfig,
  optionalTextVariable,
  scimAddressConfigSchema,
  ssoAddressConfigSchema,
  wholeNumberVariable,
} from '@roster/core';

/** The SAML service provider's checks and session lifetimes. */
export interface SamlSettings {
  /** Allowed clock difference with the IdP for NotBefore/NotOnOrAfter. */
  readonly clockSkewMs: number;
  /** Oldest assertion accepted, from its IssueInstant, whatever its NotOnOrAfter says. */
  readonly maxAssertionAgeMs: number;
  /** How long an AuthnRequest waits for its answer. */
  readonly requestTtlMs: number;
  readonly sessionIdleTimeoutMs: number;
  readonly sessionAbsoluteTimeoutMs: number;
  /** PEM files of the SP key pair (decrypts assertions, signs requests); both or neither. */
  readonly spPrivateKeyFile: string | undefined;
  readonly spCertificateFile: string | undefined;
}

/** The SAML service provider's variables. */
export const samlConfigSchema = defineConfig(
  z
    .object({
      SAML_CLOCK_SKEW_MS: wholeNumberVariable(0, 300_000, 60_000),
      SAML_MAX_ASSERTION_AGE_MS: wholeNumberVariable(10_000, 3_600_000, 300_000),
      SAML_REQUEST_TTL_MS: wholeNumberVariable(60_000, 3_600_000, 900_000),
      SSO_SESSION_IDLE_TIMEOUT_MS: wholeNumberVariable(60_000, 2_592_000_000, 28_800_000),
      SSO_SESSION_ABSOLUTE_TIMEOUT_MS: wholeNumberVariable(60_000, 2_592_000_000, 86_400_000),
      SSO_SP_PRIVATE_KEY_FILE: optionalTextVariable(),
      SSO_SP_CERTIFICATE_FILE: optionalTextVariable(),
    })
    .refine(
      (env) => Boolean(env.SSO_SP_PRIVATE_KEY_FILE) === Boolean(env.SSO_SP_CERTIFICATE_FILE),
      {
        message: 'give both SSO_SP_PRIVATE_KEY_FILE and SSO_SP_CERTIFICATE_FILE, or neither',
        path: ['SSO_SP_CERTIFICATE_FILE'],
      },
    )
    .transform((env): { readonly sso: SamlSettings } => ({
      sso: {
        clockSkewMs: env.SAML_CLOCK_SKEW_MS,
        maxAssertionAgeMs: env.SAML_MAX_ASSERTION_AGE_MS,
        requestTtlMs: env.SAML_REQUEST_TTL_MS,
        sessionIdleTimeoutMs: env.SSO_SESSION_IDLE_TIMEOUT_MS,
        sessionAbsoluteTimeoutMs: env.SSO_SESSION_ABSOLUTE_TIMEOUT_MS,
        spPrivateKeyFile: env.SSO_SP_PRIVATE_KEY_FILE,
        spCertificateFile: env.SSO_SP_CERTIFICATE_FILE,
      },
    })),
);

/**
 * Every variable the SSO app reads (README, "Configuration"). SCIM_BASE_URL: the audience of
 * the access tokens SCIM clients get from a tenant's token endpoint.
 */
export const ssoConfigSchema = composeConfig(
  baseConfigSchema,
  ssoAddressConfigSchema,
  scimAddressConfigSchema,
  samlConfigSchema,
);
export type SsoConfig = InferConfig<typeof ssoConfigSchema>;
