// Checks an access token a SCIM client got from the tenant's token endpoint (client credentials
// grant): a JWT access token (RFC 9068) signed with the tenant's keys, read here from the
// database, so the SCIM app never calls the SSO app.
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { Clock } from '../clock.js';
import type { Db } from '../db/transaction.js';
import { findTenantBySlug } from '../tenants/tenant.repository.js';
import type { Tenant } from '../tenants/tenant.js';
import { tenantIssuerUrl, tenantScimUrl } from '../urls/url-layouts.js';
import { findScimClient } from './scim-client.js';
import { listSigningKeys, SIGNING_ALGORITHM } from './signing-keys.js';

/** How long a tenant's public keys are trusted before they are read again. */
export const SCIM_KEY_CACHE_MS = 10_000;
/** Longest access token looked at, in characters (a Roster one has about 900). */
export const MAX_SCIM_ACCESS_TOKEN_LENGTH = 4096;
/** The JWT type of an OAuth 2.0 access token (RFC 9068 §2.1): an ID token is not one. */
const ACCESS_TOKEN_TYPE = 'at+jwt';
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Why a presented access token was refused (for the log; callers all get the same 401). */
export type ScimAccessTokenRefusal =
  | 'unknown_tenant'
  | 'malformed'
  | 'bad_signature'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'expired'
  | 'unknown_client'
  | 'secret_rotated';

/** The outcome of checking a SCIM access token: the tenant and the SCIM client it was issued to. */
export type ScimAccessTokenAuthentication =
  | { readonly ok: true; readonly tenant: Tenant; readonly clientId: string }
  | { readonly ok: false; readonly reason: ScimAccessTokenRefusal };

/** A checker of SCIM access tokens: the tenant named in the URL and the presented token. */
export type ScimAccessTokenVerifier = (
  tenantSlug: string,
  token: string,
) => Promise<ScimAccessTokenAuthentication>;

/** Whether a bearer token has the shape of a JWT (a SCIM token never has). */
export const isJwtShaped = (token: string) =>
  token.length <= MAX_SCIM_ACCESS_TOKEN_LENGTH && JWT_SHAPE.test(token);

interface CachedKeys {
  readonly keys: JWTVerifyGetKey;
  readonly loadedAt: number;
}

function refusalOf(error: unknown): ScimAccessTokenRefusal {
  if (error instanceof joseErrors.JWTExpired) return 'expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return 'wrong_issuer';
    if (error.claim === 'aud') return 'wrong_audience';
    return 'malformed';
  }
  if (
    error instanceof joseErrors.JWSSignatureVerificationFailed ||
    error instanceof joseErrors.JWKSNoMatchingKey
  )
    return 'bad_signature';
  return 'malformed';
}

/**
 * A checker of the access tokens SCIM clients get from a tenant's token endpoint. A token is
 * accepted when it is an `at+jwt` signed with one of the tenant's published keys, its issuer is
 * the tenant's, its audience the tenant's SCIM URL, it has not expired, and the SCIM client it
 * was issued to still exists and has not had its secret rotated since. The tenant's public keys
 * are kept {@link SCIM_KEY_CACHE_MS}.
 *
 * @example
 * const verify = scimAccessTokenVerifier(db, { ssoBaseUrl, scimBaseUrl }, clock);
 * const result = await verify('acme', bearer); // { ok: true, tenant, clientId } or a reason
 */
export function scimAccessTokenVerifier(
  db: Db,
  urls: { readonly ssoBaseUrl: string; readonly scimBaseUrl: string },
  clock: Clock,
): ScimAccessTokenVerifier {
  const cache = new Map<string, CachedKeys>();

  async function keysOf(tenantId: string): Promise<JWTVerifyGetKey | undefined> {
    const cached = cache.get(tenantId);
    if (cached && Date.now() - cached.loadedAt < SCIM_KEY_CACHE_MS) return cached.keys;
    const published = await listSigningKeys(db, tenantId);
    // A tenant without keys has issued nothing yet; its first keys must be seen at once.
    if (published.length === 0) return undefined;
    const keys = createLocalJWKSet({ keys: published.map((key) => key.publicJwk) });
    cache.set(tenantId, { keys, loadedAt: Date.now() });
    return keys;
  }

  return async (tenantSlug, token) => {
    if (!isJwtShaped(token)) return { ok: false, reason: 'malformed' };
    const tenant = await findTenantBySlug(db, tenantSlug);
    if (!tenant) return { ok: false, reason: 'unknown_tenant' };
    const keys = await keysOf(tenant.id);
    if (!keys) return { ok: false, reason: 'bad_signature' };
    let payload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        algorithms: [SIGNING_ALGORITHM],
        typ: ACCESS_TOKEN_TYPE,
        issuer: tenantIssuerUrl(urls.ssoBaseUrl, tenant.slug),
        audience: tenantScimUrl(urls.scimBaseUrl, tenant.slug),
        requiredClaims: ['exp', 'iat', 'client_id'],
        currentDate: clock.now(),
      }));
    } catch (error) {
      return { ok: false, reason: refusalOf(error) };
    }
    const clientId = payload.client_id;
    if (typeof clientId !== 'string') return { ok: false, reason: 'malformed' };
    const client = await findScimClient(db, tenant.id, clientId);
    if (!client) return { ok: false, reason: 'unknown_client' };
    // Tokens from before a secret rotation die with the old secret (iat has whole seconds).
    const rotatedAt = client.secretRotatedAt?.getTime() ?? 0;
    if (Number(payload.iat) < Math.floor(rotatedAt / 1000))
      return { ok: false, reason: 'secret_rotated' };
    return { ok: true, tenant, clientId };
  };
}
