// OpenID Connect Back-Channel Logout 1.0 §2.6: how an app checks a logout token before it ends
// anyone's session. The signature and the standard claims are checked by jose.
import * as jose from 'jose';

/** The one event a logout token carries (§2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** A logout token older than this is refused: it is sent the moment a session ends. */
export const LOGOUT_TOKEN_MAX_AGE_SECONDS = 10 * 60;
/** Clock difference allowed between Roster and this app. */
export const CLOCK_TOLERANCE_SECONDS = 30;
/** The `typ` values accepted (§2.4 recommends `logout+jwt`; the header is optional). */
const ACCEPTED_TYPES = new Set(['logout+jwt', 'application/logout+jwt', 'jwt']);

/** Whose sessions a valid logout token ends: its `sid`, its `sub`, or both. */
export interface LogoutTarget {
  readonly sid: string | undefined;
  readonly sub: string | undefined;
}

export class InvalidLogoutToken extends Error {}

export interface LogoutTokenVerifier {
  readonly issuer: string;
  readonly clientId: string;
  readonly keys: jose.JWTVerifyGetKey;
}

export async function verifyLogoutToken(
  token: string,
  { issuer, clientId, keys }: LogoutTokenVerifier,
): Promise<LogoutTarget> {
  let verified: jose.JWTVerifyResult;
  try {
    verified = await jose.jwtVerify(token, keys, {
      issuer,
      audience: clientId,
      algorithms: ['RS256'],
      requiredClaims: ['iat', 'jti'],
      maxTokenAge: LOGOUT_TOKEN_MAX_AGE_SECONDS,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    });
  } catch (error) {
    throw new InvalidLogoutToken(
      error instanceof jose.errors.JOSEError ? error.message : 'the logout token is not valid',
    );
  }
  const { payload, protectedHeader } = verified;
  if (protectedHeader.typ !== undefined && !ACCEPTED_TYPES.has(protectedHeader.typ.toLowerCase()))
    throw new InvalidLogoutToken('the token is not a logout token (typ)');
  const events = payload.events as Record<string, unknown> | undefined;
  const event = events?.[BACKCHANNEL_LOGOUT_EVENT];
  if (typeof event !== 'object' || event === null)
    throw new InvalidLogoutToken(`the token has no ${BACKCHANNEL_LOGOUT_EVENT} event`);
  // A nonce would make it an ID token passed off as a logout token (§2.4).
  if ('nonce' in payload) throw new InvalidLogoutToken('a logout token must not have a nonce');
  const sid = typeof payload.sid === 'string' ? payload.sid : undefined;
  const sub = typeof payload.sub === 'string' ? payload.sub : undefined;
  if (sid === undefined && sub === undefined)
    throw new InvalidLogoutToken('the token names neither a session (sid) nor a person (sub)');
  return { sid, sub };
}
