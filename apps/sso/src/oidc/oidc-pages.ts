// The pages the OpenID Provider shows a person: an error, the sign-out question, signed out.
// Same look and headers as the SAML pages; never an internal message.
import type { KoaContextWithOIDC } from './oidc-provider-lib.js';
import { escapeHtml, pageHeaders, pageHtml } from '../http/pages.js';

type Ctx = KoaContextWithOIDC;

/** What a person is told for each error the provider can show them instead of redirecting. */
const ERROR_MESSAGES: Record<string, string> = {
  invalid_client: 'This app is not registered with this organisation.',
  invalid_redirect_uri: 'This app asked to return to an address it has not registered.',
  invalid_request: 'The app sent a sign-in request that is not valid.',
  invalid_request_uri: 'The app sent a sign-in request that is not valid.',
  login_required: 'You need to sign in again. Go back to the app and start over.',
  session_not_found:
    'This sign-in has expired or was started in another browser. Go back to the app and sign in again.',
  access_denied: 'This sign-in was refused.',
};

function send(ctx: Ctx, title: string, body: string, formTargets: readonly string[] = []): void {
  ctx.type = 'html';
  ctx.set(pageHeaders(formTargets));
  ctx.body = pageHtml(title, body);
}

/** The provider's error page (oidc-provider `renderError`); the status is the library's. */
export function providerErrorPage(
  ctx: Ctx,
  out: { error: string; error_description?: string | undefined },
  _error: unknown,
): void {
  const message =
    ERROR_MESSAGES[out.error] ??
    (ctx.status >= 500
      ? 'Something went wrong on our side. Try again in a moment.'
      : 'The sign-in request could not be completed.');
  const detail =
    ctx.status < 500 && out.error_description
      ? `<p class="muted" id="error-detail">${escapeHtml(out.error)}: ${escapeHtml(out.error_description)}</p>`
      : `<p class="muted" id="error-detail">${escapeHtml(out.error)}</p>`;
  send(ctx, 'Sign-in failed', `<p>${escapeHtml(message)}</p>\n${detail}`);
}

/**
 * Asked before an app's sign-out ends the session (OpenID Connect RP-Initiated Logout 1.0 §2):
 * `form` is the library's hidden form carrying its CSRF token.
 */
export function signOutConfirmPage(ctx: Ctx, form: string): void {
  const app = ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId;
  // Either answer ends at the app's post-logout URI (already checked against its registered
  // ones by the library): Chromium blocks that redirect unless form-action lists its origin.
  const returnTo = ctx.oidc.params?.post_logout_redirect_uri;
  const formTargets = typeof returnTo === 'string' ? [new URL(returnTo).origin] : [];
  send(
    ctx,
    'Sign out?',
    `${form}
<p>${app ? `${escapeHtml(String(app))} asks to sign you out.` : 'Sign out of every app you signed in to here?'}</p>
<p><button type="submit" form="op.logoutForm" name="logout" value="yes" id="logout">Sign out</button>
<button type="submit" form="op.logoutForm" id="stay">Stay signed in</button></p>`,
    formTargets,
  );
}

/** After a sign-out that named no address to return to. */
export function signedOutOfAppPage(ctx: Ctx): void {
  send(ctx, 'You are signed out', '<p id="signed-out">You can close this window.</p>');
}
