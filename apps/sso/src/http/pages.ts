// The few HTML pages a person sees: an error, the landing page, signed out. No scripts.
import type { Response } from 'express';

export const escapeHtml = (value: string): string =>
  value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/**
 * The headers of every page. `formTargets` are the origins a form of the page may end up at
 * besides Roster's own: Chromium applies CSP form-action to the redirects after a submission too,
 * so a sign-out that goes on to the IdP's single-logout URL is blocked unless that origin is
 * listed.
 */
export function pageHeaders(formTargets: readonly string[] = []): Record<string, string> {
  const formAction = ["'self'", ...formTargets].join(' ');
  return {
    'cache-control': 'no-store',
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action ${formAction}; frame-ancestors 'none'`,
    'x-frame-options': 'DENY',
  };
}

/** A whole page; `body` is HTML the caller escaped. */
export function pageHtml(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}.muted{color:#666;font-size:.9rem}button,a.button{font:inherit;padding:.4rem .9rem}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
${body}
</body></html>`;
}

function page(
  res: Response,
  status: number,
  title: string,
  body: string,
  formTargets: readonly string[] = [],
): void {
  res.status(status).type('html').set(pageHeaders(formTargets)).send(pageHtml(title, body));
}

/** An error a person understands, with the request id to quote; never a stack or an XML echo. */
export function errorPage(
  res: Response,
  status: number,
  message: string,
  requestId: string,
  action: 'sign-in' | 'sign-out' = 'sign-in',
): void {
  page(
    res,
    status,
    status === 404 ? 'Not found' : action === 'sign-out' ? 'Sign-out failed' : 'Sign-in failed',
    `<p>${escapeHtml(message)}</p>
<p class="muted">If this keeps happening, give your administrator this request id: <code id="request-id">${escapeHtml(requestId)}</code></p>`,
  );
}

/** Signed in, with a sign-out button; `sloUrl`: where that sign-out goes on to (the IdP's SLO). */
export function landingPage(
  res: Response,
  who: { userName: string; displayName: string | null },
  logoutPath: string,
  sloUrl: string | null,
): void {
  page(
    res,
    200,
    'You are signed in',
    `<p id="signed-in-as">Signed in as <strong>${escapeHtml(who.displayName ?? who.userName)}</strong> (${escapeHtml(who.userName)}).</p>
<form method="post" action="${escapeHtml(logoutPath)}"><button type="submit" id="logout">Sign out</button></form>`,
    sloUrl ? [new URL(sloUrl).origin] : [],
  );
}

export function signedOutPage(
  res: Response,
  logins: { name: string; url: string }[],
  options: { status?: number; notice?: string } = {},
): void {
  const links = logins
    .map(
      (l) =>
        `<li><a class="button" href="${escapeHtml(l.url)}">Sign in with ${escapeHtml(l.name)}</a></li>`,
    )
    .join('\n');
  const notice = options.notice ? `<p id="notice">${escapeHtml(options.notice)}</p>\n` : '';
  page(
    res,
    options.status ?? 200,
    'You are not signed in',
    notice +
      (logins.length > 0
        ? `<ul id="logins">${links}</ul>`
        : '<p>No identity provider is set up yet.</p>'),
  );
}
