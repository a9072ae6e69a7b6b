// The logout notice an app receives when a session it was signed in through ends: a Logout Token
// (OpenID Connect Back-Channel Logout 1.0 §2.4), signed with the tenant's current key at delivery
// time (so a retried notice is fresh), posted as `logout_token` in a form (§2.5).
import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT } from 'jose';
import type { Db } from '../db/transaction.js';
import type { DeliveryRenderer } from '../outbound/deliveries.js';
import { tenantIssuerUrl } from '../urls/url-layouts.js';
import type { BackchannelLogoutPayload } from './app-sessions.js';
import { loadSigningKeys, SIGNING_ALGORITHM } from './signing-keys.js';

/** How long a logout token is valid: long enough for clock skew, short against replay. */
export const LOGOUT_TOKEN_LIFETIME_SECONDS = 120;
/** The event a logout token carries (§2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/**
 * Renders queued back-channel logout notices for the delivery worker.
 *
 * @param ssoBaseUrl the SSO app's public base URL (SSO_BASE_URL): the issuers are under it
 */
export function backchannelLogoutRenderer(db: Db, ssoBaseUrl: string): DeliveryRenderer {
  return async (delivery) => {
    const notice = delivery.payload as BackchannelLogoutPayload;
    const tenant = await db
      .selectFrom('tenants')
      .select('slug')
      .where('id', '=', delivery.tenantId)
      .executeTakeFirstOrThrow();
    const [signingKey] = (await loadSigningKeys(db, delivery.tenantId)).keys;
    if (!signingKey?.kid) throw new Error('the tenant has no signing key');
    const token = await new SignJWT({
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
      sid: notice.sid,
    })
      .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: signingKey.kid, typ: 'logout+jwt' })
      .setIssuer(tenantIssuerUrl(ssoBaseUrl, tenant.slug))
      .setAudience(notice.clientId)
      .setSubject(notice.sub)
      .setIssuedAt()
      .setExpirationTime(`${LOGOUT_TOKEN_LIFETIME_SECONDS}s`)
      .setJti(randomUUID())
      .sign(await importJWK(signingKey, SIGNING_ALGORITHM));
    return {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: token }).toString(),
    };
  };
}
