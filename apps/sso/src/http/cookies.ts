import { createHash, randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';

/**
 * The session cookie (server-side session id; HttpOnly). The ACS reads it to end the browser's
 * previous session at a new login, and the ACS is reached by the IdP's cross-site POST: it is a
 * cross-site cookie (see `cookiePolicyOf`).
 */
export const SESSION_COOKIE = 'roster_session';
/**
 * The pre-login cookie that binds an AuthnRequest to the browser that sent it. It must come back
 * on the IdP's cross-site POST to the ACS: a cross-site cookie.
 */
export const LOGIN_COOKIE = 'roster_login';
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

/** One cookie from the Cookie header; only values shaped like Roster's own are returned. */
export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at < 0 || part.slice(0, at).trim() !== name) continue;
    const value = part.slice(at + 1).trim();
    if (COOKIE_VALUE.test(value)) return value;
  }
  return undefined;
}

export const newCookieValue = (): string => randomBytes(32).toString('base64url');
export const bindingHash = (value: string): Buffer =>
  createHash('sha256').update(`login:${value}`, 'utf8').digest();

/** What Roster's cookies can be, given the public base URL (SSO_BASE_URL). */
export interface CookiePolicy {
  /**
   * Cookies carry `Secure`, and so a cookie that must come back on a cross-site POST can be
   * `SameSite=None` (browsers refuse None without Secure). True under https, and on plain http
   * to a loopback host, which browsers treat as a secure context and accept Secure cookies from
   * (a "potentially trustworthy origin" in W3C Secure Contexts).
   */
  readonly secure: boolean;
}

/**
 * The cookie policy for a base URL. On plain http to any other host, cookies are `SameSite=Lax`
 * without Secure: a browser withholds them on the IdP's cross-site POST to the ACS, so sign-in
 * works only with an IdP on the same site (`crossSiteSignInWarning` says so at start).
 */
export function cookiePolicyOf(baseUrl: string): CookiePolicy {
  const url = new URL(baseUrl);
  return { secure: url.protocol === 'https:' || isLoopbackHost(url.hostname) };
}

/** localhost, *.localhost, 127.0.0.0/8 and [::1]: the hosts browsers treat as trustworthy on http. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    /^127(\.\d{1,3}){3}$/.test(host) ||
    host === '[::1]'
  );
}

/**
 * Said at start when the IdP's cross-site POST to the ACS cannot carry Roster's cookies (plain
 * http, not on a loopback host); undefined when it can.
 */
export function crossSiteSignInWarning(baseUrl: string): string | undefined {
  if (cookiePolicyOf(baseUrl).secure) return undefined;
  return (
    `SSO_BASE_URL (${baseUrl}) is plain http on a host other than localhost: browsers will not ` +
    "send Roster's sign-in cookie on the identity provider's cross-site POST, so every " +
    'SP-initiated sign-in with an IdP on another site fails with no_login_cookie. Serve the SSO ' +
    'app over https (or use http://localhost to try it out).'
  );
}

export interface CookieOptions {
  readonly path: string;
  readonly policy: CookiePolicy;
  readonly maxAgeMs: number;
  /** The cookie must come back on a cross-site POST (the IdP's to the ACS). */
  readonly crossSitePost?: boolean;
}

// Cross-site POST (IdP -> ACS) carries only SameSite=None cookies, which need Secure; where
// Secure is impossible (plain http off loopback) Lax is the best there is.
const sameSiteOf = (options: Omit<CookieOptions, 'maxAgeMs'>) =>
  options.crossSitePost && options.policy.secure ? 'none' : 'lax';

export function setCookie(
  res: Response,
  name: string,
  value: string,
  options: CookieOptions,
): void {
  res.cookie(name, value, {
    httpOnly: true,
    secure: options.policy.secure,
    sameSite: sameSiteOf(options),
    path: options.path,
    maxAge: options.maxAgeMs,
  });
}

export function clearCookie(
  res: Response,
  name: string,
  options: Omit<CookieOptions, 'maxAgeMs'>,
): void {
  res.clearCookie(name, {
    httpOnly: true,
    secure: options.policy.secure,
    sameSite: sameSiteOf(options),
    path: options.path,
  });
}
