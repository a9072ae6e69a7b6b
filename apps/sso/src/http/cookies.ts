import { createHash, randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';

/** The session cookie (server-side session id; HttpOnly, SameSite=Lax, Secure under https). */
export const SESSION_COOKIE = 'roster_session';
/**
 * The pre-login cookie that binds an AuthnRequest to the browser that sent it. It must come back
 * on the IdP's cross-site POST to the ACS, so under https it is SameSite=None (and Secure).
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

export interface CookieOptions {
  readonly path: string;
  readonly secure: boolean;
  readonly maxAgeMs: number;
  readonly crossSitePost?: boolean;
}

export function setCookie(
  res: Response,
  name: string,
  value: string,
  options: CookieOptions,
): void {
  res.cookie(name, value, {
    httpOnly: true,
    secure: options.secure,
    // Cross-site POST (IdP -> ACS) carries only SameSite=None cookies, which need Secure; on
    // plain http (local use) Lax is the best there is, and works when the IdP is same-site.
    sameSite: options.crossSitePost && options.secure ? 'none' : 'lax',
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
    secure: options.secure,
    sameSite: options.crossSitePost && options.secure ? 'none' : 'lax',
    path: options.path,
  });
}
