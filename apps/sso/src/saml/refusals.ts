// Every reason a sign-in is refused: the precise code (log line, audit event) and what the
// person in front of the browser is told (docs: README "What each refusal means").
import { SamlStatusError } from '@node-saml/node-saml';

export const REFUSAL_REASONS = {
  malformed_response: [400, 'The sign-in message from your identity provider could not be read.'],
  weak_algorithm: [
    400,
    'Your identity provider signed the sign-in with SHA-1, which Roster does not accept. Ask your administrator to switch the application to SHA-256.',
  ],
  signature_invalid: [
    401,
    'The sign-in message is not signed by your identity provider’s configured certificate.',
  ],
  encrypted_assertion_without_key: [
    400,
    'Your identity provider encrypted the sign-in, but Roster has no key to decrypt it. Ask your administrator.',
  ],
  decryption_failed: [400, 'The encrypted sign-in message could not be decrypted.'],
  audience_mismatch: [401, 'The sign-in message was made for another application.'],
  destination_mismatch: [401, 'The sign-in message was sent to another address.'],
  recipient_mismatch: [401, 'The sign-in message was made for another address.'],
  issuer_mismatch: [401, 'The sign-in message comes from another identity provider.'],
  expired: [401, 'The sign-in took too long and has expired. Please sign in again.'],
  too_old: [401, 'The sign-in message is too old. Please sign in again.'],
  not_yet_valid: [
    401,
    'The sign-in message is not valid yet (the clocks disagree). Please try again in a minute.',
  ],
  no_bearer_confirmation: [401, 'The sign-in message does not confirm who may use it.'],
  replayed: [401, 'This sign-in message was already used. Please sign in again.'],
  unknown_in_response_to: [
    401,
    'This sign-in does not answer a sign-in started here. Please sign in again.',
  ],
  request_expired: [401, 'The sign-in took too long and has expired. Please sign in again.'],
  in_response_to_other_browser: [
    401,
    'This sign-in was started in another browser. Please sign in again from this one.',
  ],
  no_login_cookie: [
    401,
    'This browser did not start the sign-in (or blocks cookies). Please sign in again from this page.',
  ],
  in_response_to_mismatch: [401, 'The sign-in message contradicts itself.'],
  unsolicited: [
    401,
    'Sign-in must start here, not at the identity provider. Please use the sign-in link of this application.',
  ],
  missing_name_id: [400, 'The sign-in message does not say who you are (no NameID).'],
  no_assertion: [401, 'Your identity provider did not sign you in.'],
  idp_error: [401, 'Your identity provider refused the sign-in.'],
  invalid_response: [400, 'The sign-in message from your identity provider is not acceptable.'],
  // Roster's rules (core's signIn)
  inactive: [403, 'Your account is deactivated. Contact your administrator.'],
  deprovisioned: [403, 'Your account has been removed. Contact your administrator.'],
  not_provisioned: [
    403,
    'Your account does not exist here yet, and this identity provider may not create one. Contact your administrator.',
  ],
  ambiguous_match: [403, 'Your sign-in matches more than one account. Contact your administrator.'],
} as const satisfies Record<string, readonly [number, string]>;

export type RefusalReason = keyof typeof REFUSAL_REASONS;

/**
 * Added to the `no_login_cookie` page when SSO_BASE_URL is plain http off loopback: there the
 * browser withholds the pre-login cookie from every IdP on another site, whatever the person does.
 */
export const PLAIN_HTTP_COOKIE_NOTE =
  'Roster is served over plain http (SSO_BASE_URL), so browsers do not send its sign-in cookie back from an identity provider on another site. Ask your administrator to serve Roster over https.';

/** What the person is told for a refusal: its status and message. */
export function refusalAnswer(
  reason: RefusalReason,
  cookies: { readonly secure: boolean },
): readonly [number, string] {
  const [status, message] = REFUSAL_REASONS[reason];
  if (reason === 'no_login_cookie' && !cookies.secure)
    return [status, `${message} ${PLAIN_HTTP_COOKIE_NOTE}`];
  return [status, message];
}

/** A refused sign-in: the reason code, and a detail for the log (never shown to the person). */
export class SignInRefused extends Error {
  override readonly name = 'SignInRefused';
  readonly reason: RefusalReason;
  readonly detail: string;
  constructor(reason: RefusalReason, detail: string) {
    super(`${reason}: ${detail}`);
    this.reason = reason;
    this.detail = detail;
  }
}

/** What node-saml's error means (its messages are not an API: anything unknown is generic). */
export function classifyValidationError(error: unknown): SignInRefused {
  if (error instanceof SignInRefused) return error;
  if (error instanceof SamlStatusError) return new SignInRefused('idp_error', error.message);
  const message = error instanceof Error ? error.message : String(error);
  const refuse = (reason: RefusalReason) => new SignInRefused(reason, message.slice(0, 300));
  if (/InResponseTo is missing/.test(message)) return refuse('unsolicited');
  if (/InResponseTo does not match/.test(message)) return refuse('in_response_to_mismatch');
  if (/audience|AudienceRestriction/i.test(message)) return refuse('audience_mismatch');
  if (/not yet valid/.test(message)) return refuse('not_yet_valid');
  if (/assertion too old/.test(message)) return refuse('too_old');
  if (/expired/i.test(message)) return refuse('expired');
  if (/subject confirmation/i.test(message)) return refuse('expired');
  if (/decrypt|EncryptedAssertion/i.test(message)) return refuse('decryption_failed');
  if (/signature|Referenced node|signed data|No response found/i.test(message))
    return refuse('signature_invalid');
  if (/Missing SAML assertion/.test(message)) return refuse('no_assertion');
  if (
    /non-whitespace|unclosed|not well-formed|invalid XML|parse|Unexpected close|entity/i.test(
      message,
    )
  )
    return refuse('malformed_response');
  return refuse('invalid_response');
}
