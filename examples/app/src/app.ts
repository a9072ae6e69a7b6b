// The web app: a home page that shows who is signed in, sign-in through Roster (authorization
// code with PKCE, state and nonce), sign-out at Roster (RP-initiated logout), and the endpoint
// Roster calls when a person's session ends elsewhere (back-channel logout).
import express, { type Request, type Response } from 'express';
import * as jose from 'jose';
import * as client from 'openid-client';
import { InvalidLogoutToken, verifyLogoutToken } from './logout-token.js';
import { SessionStore, type SessionData, type SignedInUser } from './sessions.js';

const SESSION_COOKIE = 'example_session';
/** What this app asks Roster for: who (openid), email, name and groups. */
const SCOPES = 'openid email profile groups';
/** A logout token is one short JWT; anything much bigger is not one. */
const LOGOUT_BODY_LIMIT = '16kb';

export const PATHS = {
  home: '/',
  signIn: '/login',
  callback: '/callback',
  signOut: '/logout',
  signedOut: '/signed-out',
  backchannelLogout: '/backchannel-logout',
} as const;

/** Where Roster and this app meet. */
export interface ExampleAppOptions {
  /** Roster's issuer as discovered (see `discoverRoster`). */
  readonly oidc: client.Configuration;
  /** This app's public base URL (no trailing slash). */
  readonly appBaseUrl: string;
  readonly sessions?: SessionStore;
}

/** The tenant's OpenID Provider, found from its issuer (OpenID Connect Discovery 1.0). */
export async function discoverRoster(options: {
  issuer: URL;
  clientId: string;
  clientSecret: string;
}): Promise<client.Configuration> {
  return client.discovery(
    options.issuer,
    options.clientId,
    undefined,
    // Roster registers confidential apps with client_secret_basic.
    client.ClientSecretBasic(options.clientSecret),
    // Plain http only for an issuer on http (Roster's quick start on localhost).
    options.issuer.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : {},
  );
}

export function createExampleApp(options: ExampleAppOptions): express.Express {
  const { oidc, appBaseUrl } = options;
  const sessions = options.sessions ?? new SessionStore();
  const callbackUrl = `${appBaseUrl}${PATHS.callback}`;
  const signedOutUrl = `${appBaseUrl}${PATHS.signedOut}`;
  const metadata = oidc.serverMetadata();
  const logoutTokens = {
    issuer: metadata.issuer,
    clientId: oidc.clientMetadata().client_id,
    keys: jose.createRemoteJWKSet(new URL(String(metadata.jwks_uri))),
  };

  const app = express();
  app.disable('x-powered-by');
  // Every page here is about one person: no cache may keep it.
  app.use((_req, res, next) => {
    res.set('cache-control', 'no-store');
    next();
  });

  const cookieOf = (req: Request) => readCookie(req.headers.cookie, SESSION_COOKIE);
  /** A new session under a new id (the old one, if any, ends): never reuse an id across sign-ins. */
  const replaceSession = (req: Request, res: Response, data: SessionData) => {
    sessions.delete(cookieOf(req));
    res.cookie(SESSION_COOKIE, sessions.create(data), {
      httpOnly: true,
      // Lax: the cookie rides on the top-level redirect back from Roster, never on another
      // site's POST (so no other site can sign a person out here).
      sameSite: 'lax',
      secure: appBaseUrl.startsWith('https:'),
      path: '/',
    });
  };
  const endSession = (req: Request, res: Response) => {
    sessions.delete(cookieOf(req));
    res.clearCookie(SESSION_COOKIE, { path: '/' });
  };

  app.get(PATHS.home, (req, res) => {
    const session = sessions.get(cookieOf(req));
    res.type('html').send(homePage(session && 'user' in session ? session.user : undefined));
  });

  app.get(PATHS.signIn, async (req, res) => {
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const authorizationUrl = client.buildAuthorizationUrl(oidc, {
      redirect_uri: callbackUrl,
      scope: SCOPES,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    replaceSession(req, res, { pending: { codeVerifier, state, nonce } });
    res.redirect(303, authorizationUrl.href);
  });

  app.get(PATHS.callback, async (req, res) => {
    const session = sessions.get(cookieOf(req));
    if (!session || !('pending' in session)) {
      res
        .status(400)
        .type('html')
        .send(errorPage('This sign-in has expired or was started in another browser.'));
      return;
    }
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(oidc, new URL(req.originalUrl, appBaseUrl), {
        pkceCodeVerifier: session.pending.codeVerifier,
        expectedState: session.pending.state,
        expectedNonce: session.pending.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      endSession(req, res);
      res
        .status(400)
        .type('html')
        .send(errorPage(signInFailure(error)));
      return;
    }
    const claims = tokens.claims();
    if (!claims || !tokens.id_token) throw new Error('no ID token');
    // A new session id once signed in: an id planted before sign-in is worth nothing after it.
    replaceSession(req, res, {
      user: {
        sub: claims.sub,
        email: typeof claims.email === 'string' ? claims.email : undefined,
        name: typeof claims.name === 'string' ? claims.name : undefined,
        groups: Array.isArray(claims.groups) ? claims.groups.map(String) : [],
        sid: typeof claims.sid === 'string' ? claims.sid : undefined,
        idToken: tokens.id_token,
      },
    });
    res.redirect(303, PATHS.home);
  });

  // Signs out here at once, then at Roster, which asks the person to confirm and sends them back
  // to the registered post-logout URI (RP-Initiated Logout 1.0 §2, §3).
  app.post(PATHS.signOut, (req, res) => {
    const session = sessions.get(cookieOf(req));
    endSession(req, res);
    if (!session || !('user' in session)) {
      res.redirect(303, PATHS.home);
      return;
    }
    const endSessionUrl = client.buildEndSessionUrl(oidc, {
      id_token_hint: session.user.idToken,
      post_logout_redirect_uri: signedOutUrl,
    });
    res.redirect(303, endSessionUrl.href);
  });

  app.get(PATHS.signedOut, (req, res) => {
    const session = sessions.get(cookieOf(req));
    res.type('html').send(homePage(session && 'user' in session ? session.user : undefined, true));
  });

  // Roster POSTs a logout token here when a person's session ends for any reason (Back-Channel
  // Logout 1.0 §2.5, §2.8): 200 once their sessions here are gone, 400 for a bad token.
  app.post(
    PATHS.backchannelLogout,
    express.urlencoded({ extended: false, limit: LOGOUT_BODY_LIMIT }),
    async (req, res) => {
      const body = req.body as Record<string, unknown> | undefined;
      const token = body?.logout_token;
      if (typeof token !== 'string' || token === '') {
        res
          .status(400)
          .json({ error: 'invalid_request', error_description: 'logout_token is missing' });
        return;
      }
      try {
        sessions.endMatching(await verifyLogoutToken(token, logoutTokens));
      } catch (error) {
        if (!(error instanceof InvalidLogoutToken)) throw error;
        res.status(400).json({ error: 'invalid_request', error_description: error.message });
        return;
      }
      res.status(200).end();
    },
  );

  app.use((error: unknown, _req: Request, res: Response, _next: express.NextFunction) => {
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ error: 'invalid_request' });
      return;
    }
    console.error(error);
    res.status(500).type('html').send(errorPage('Something went wrong. Try again in a moment.'));
  });

  return app;
}

/** What a person is told when Roster or the code exchange refused the sign-in. */
function signInFailure(error: unknown): string {
  if (error instanceof client.AuthorizationResponseError)
    return `Roster did not sign you in (${error.error}).`;
  return 'The sign-in could not be completed. Try again.';
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>${escapeHtml(title)}</h1>
${body}
</body></html>`;
}

function homePage(user: SignedInUser | undefined, justSignedOut = false): string {
  if (!user)
    return page(
      'Example app',
      `${justSignedOut ? '<p id="notice">You have signed out.</p>\n' : ''}<p id="status">You are not signed in.</p>
<p><a id="sign-in" href="${PATHS.signIn}">Sign in</a></p>`,
    );
  const row = (label: string, value: string) => `<dt>${label}</dt><dd>${escapeHtml(value)}</dd>`;
  return page(
    'Example app',
    `<p id="status">Signed in as ${escapeHtml(user.name ?? user.email ?? user.sub)}</p>
<dl id="claims">
${row('sub', user.sub)}
${row('email', user.email ?? '-')}
${row('name', user.name ?? '-')}
${row('groups', user.groups.join(', ') || '-')}
</dl>
<form method="post" action="${PATHS.signOut}"><button id="sign-out" type="submit">Sign out</button></form>`,
  );
}

function errorPage(message: string): string {
  return page(
    'Sign-in failed',
    `<p id="error">${escapeHtml(message)}</p>\n<p><a id="sign-in" href="${PATHS.signIn}">Sign in again</a></p>`,
  );
}
