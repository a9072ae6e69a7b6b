// The whole product for the journeys: the SCIM, SSO and admin apps built in-process and
// listening on real ports, on one fresh PostgreSQL database, sharing one clock the test moves by
// hand. Everything is talked to over real HTTP (fetch), so status codes, cookies and redirects
// are the ones a browser or an IdP would see.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import {
  createLogger,
  createSamlIdp,
  createScimToken,
  createTenant,
  fixedClock,
  serviceProviderUrls,
  type ChangeContext,
  type SamlIdp,
  type ServiceProviderUrls,
  type Tenant,
} from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { createAdminApp } from '@roster/admin';
import { createLifecycle } from '@roster/http';
import { createScimApp } from '@roster/scim';
import { createSsoApp } from '@roster/sso';
import { TestIdp, toPostBinding, type ResponseOptions } from '@roster/sso/testing';

export const ADMIN_TOKEN = 'roster_admin_journeys-token-0123456789abcdef';
export const SCIM_JSON = 'application/scim+json';
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SEARCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
export const BULK_REQUEST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
/** Where the test IdPs' pages are: another site than the SSO server's http://localhost. */
export const IDP_SITE_ORIGIN = 'https://idp.example.test';
/** Longest one request may take before the test fails naming it. */
const REQUEST_TIMEOUT_MS = 20_000;

const operator: ChangeContext = { actor: { type: 'operator', id: 'journeys' } };

/** A parsed JSON body, asserted on field by field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  readonly body: Json;
}

export async function send(url: string, init: RequestInit): Promise<HttpAnswer> {
  const res = await fetch(url, {
    ...init,
    redirect: 'manual',
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  // The body stays untyped JSON on purpose (asserted on field by field, as in apps/scim/test).
  // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
  return { status: res.status, headers: res.headers, text, body: body as Json };
}

/**
 * An app on 127.0.0.1, built once its own URL is known (the SSO app signs its URLs in). Its URL
 * names `host` (default 127.0.0.1), which must resolve to 127.0.0.1.
 */
export async function listen(
  build: (baseUrl: string) => Express,
  host = '127.0.0.1',
): Promise<{ url: string; server: Server }> {
  // The server needs its port before the app exists; until then it answers 503.
  const built: { app?: Express } = {};
  const server = createServer((req, res) => {
    if (built.app) built.app(req, res);
    else res.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://${host}:${(server.address() as AddressInfo).port}`;
  built.app = build(url);
  return { url, server };
}

/** One tenant: its SCIM token and one SAML IdP (an Entra-like test IdP) configured in it. */
export interface JourneyTenant {
  readonly tenant: Tenant;
  readonly slug: string;
  readonly scimToken: string;
  readonly scimTokenId: string;
  readonly idp: TestIdp;
  readonly idpConfig: SamlIdp;
  readonly sp: ServiceProviderUrls;
  readonly scim: ScimClient;
}

export interface JourneyStack {
  readonly database: TestDatabase;
  readonly clock: ReturnType<typeof fixedClock>;
  readonly scimUrl: string;
  readonly ssoUrl: string;
  readonly adminUrl: string;
  /** A new tenant with a SCIM token and an IdP (made directly through core, as an operator would). */
  tenant(slug: string, settings?: { gracePeriodDays?: number }): Promise<JourneyTenant>;
  /** A SCIM client of `slug`'s endpoint, with any bearer token. */
  scimAs(slug: string, token: string): ScimClient;
  admin(method: string, path: string, body?: unknown): Promise<HttpAnswer>;
  browser(): Browser;
  close(): Promise<void>;
}

export async function startJourneyStack(): Promise<JourneyStack> {
  const database = await createTestDatabase({ migrated: true });
  if (database.target.kind !== 'postgres')
    throw new Error('journeys run only on PostgreSQL (*.pg.* files need DATABASE_URL)');
  // Starts at the real time: the test IdP signs with the real time, the SSO checks with this one.
  const clock = fixedClock(new Date());
  const logger = createLogger({ level: 'silent' });
  const scim = await listen((baseUrl) =>
    createScimApp({ database, logger, clock, lifecycle: createLifecycle(), baseUrl }),
  );
  // SSO on http://localhost, as in the quick start; every IdP is on another site
  // (IDP_SITE_ORIGIN), so its POST to the ACS is cross-site, as with Okta or Entra.
  const sso = await listen(
    (baseUrl) => createSsoApp({ database, logger, clock, lifecycle: createLifecycle(), baseUrl }),
    'localhost',
  );
  const admin = await listen(() =>
    createAdminApp({
      database,
      logger,
      clock,
      lifecycle: createLifecycle(),
      adminToken: ADMIN_TOKEN,
      scimBaseUrl: scim.url,
      ssoBaseUrl: sso.url,
    }),
  );
  const scimAs = (slug: string, token: string) =>
    new ScimClient(`${scim.url}/scim/v2/${slug}`, token);
  return {
    database,
    clock,
    scimUrl: scim.url,
    ssoUrl: sso.url,
    adminUrl: admin.url,
    scimAs,
    async tenant(slug, settings = {}) {
      const tenant = await createTenant(database.db, slug, operator, settings);
      const issued = await createScimToken(database.db, slug, { expiresAt: null }, operator, clock);
      const idp = await TestIdp.create({
        entityId: `https://sts.windows.net/${slug}-test/`,
        ssoUrl: `${IDP_SITE_ORIGIN}/${slug}/saml2`,
        sloUrl: `${IDP_SITE_ORIGIN}/${slug}/saml2/logout`,
      });
      const idpConfig = await createSamlIdp(
        database.db,
        tenant.id,
        { xml: idp.metadataXml() },
        { name: 'entra', preset: 'entra' },
        operator,
        clock,
      );
      return {
        tenant,
        slug,
        scimToken: issued.token,
        scimTokenId: issued.id,
        idp,
        idpConfig,
        sp: serviceProviderUrls(sso.url, slug, idpConfig.id),
        scim: scimAs(slug, issued.token),
      };
    },
    admin: (method, path, body) =>
      send(`${admin.url}${path}`, {
        method: method.toUpperCase(),
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    browser: () => new Browser(sso.url),
    async close() {
      for (const { server } of [scim, sso, admin]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      await database.close();
    },
  };
}

/** One tenant's SCIM endpoint with one bearer token; bodies go as application/scim+json. */
export class ScimClient {
  readonly baseUrl: string;
  readonly token: string;
  constructor(baseUrl: string, token: string) {
    this.baseUrl = baseUrl;
    this.token = token;
  }

  call(method: string, path: string, body?: unknown): Promise<HttpAnswer> {
    return send(`${this.baseUrl}${path}`, {
      method: method.toUpperCase(),
      headers: {
        authorization: `Bearer ${this.token}`,
        accept: SCIM_JSON,
        ...(body === undefined ? {} : { 'content-type': SCIM_JSON }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }
  get = (path: string) => this.call('GET', path);
  post = (path: string, body: unknown) => this.call('POST', path, body);
  put = (path: string, body: unknown) => this.call('PUT', path, body);
  patch = (path: string, body: unknown) => this.call('PATCH', path, body);
  delete = (path: string) => this.call('DELETE', path);
  /** `GET /Users?filter=userName eq "<userName>"`, the look-up Entra makes before it creates. */
  findByUserName = (userName: string) =>
    this.get(`/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
}

/** A SCIM user as Entra pushes it. */
export const scimUser = (
  userName: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> => ({
  schemas: [USER_SCHEMA],
  userName,
  externalId: `ext-${userName}`,
  active: true,
  name: { givenName: 'Given', familyName: 'Family' },
  emails: [{ value: userName, type: 'work', primary: true }],
  ...extra,
});

/** A cookie as a browser keeps it: its value and what decides where it is sent. */
interface KeptCookie {
  readonly sameSite: 'strict' | 'lax' | 'none';
  readonly secure: boolean;
}

/** Hosts a browser treats as a secure context over plain http (and takes Secure cookies from). */
const isLoopback = (host: string) =>
  host === 'localhost' ||
  host.endsWith('.localhost') ||
  /^127(\.\d{1,3}){3}$/.test(host) ||
  host === '[::1]';
const isTrustworthy = (url: URL) => url.protocol === 'https:' || isLoopback(url.hostname);

/**
 * The "site" of a URL as browsers compare them for SameSite: the scheme and the registrable
 * domain, ports aside. The registrable domain is taken as the last two labels (no public suffix
 * list: the test host names are all of the form name.example.test, localhost or an address).
 */
function siteOf(url: URL): string {
  const host = url.hostname;
  const registrable =
    /^[\d.]+$/.test(host) || host.startsWith('[') ? host : host.split('.').slice(-2).join('.');
  return `${url.protocol}//${registrable}`;
}

/**
 * A browser: a cookie jar across requests to the SSO server, redirects not followed. It keeps
 * and sends cookies the way a current browser does with `Secure` and `SameSite`: a Secure cookie
 * only from and to https or a loopback host, SameSite=None only with Secure, and on a cross-site
 * request (a POST from the IdP's page to the ACS) only SameSite=None cookies, or Lax ones on a
 * top-level GET. Paths and hosts are not told apart (every cookie goes to every SSO path).
 */
export class Browser {
  readonly cookies = new Map<string, string>();
  readonly #kept = new Map<string, KeptCookie>();
  readonly origin: string;
  constructor(origin: string) {
    this.origin = origin;
  }

  private keep(answer: HttpAnswer, url: URL): HttpAnswer {
    for (const line of answer.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      const attribute = (key: string) =>
        attributes.find((a) => a.toLowerCase().split('=')[0] === key.toLowerCase());
      const secure = attribute('Secure') !== undefined;
      const declared = attribute('SameSite')?.split('=')[1]?.toLowerCase();
      // No SameSite attribute means Lax in current browsers.
      const sameSite = declared === 'none' || declared === 'strict' ? declared : 'lax';
      // What a browser refuses to store at all.
      if (secure && !isTrustworthy(url)) continue;
      if (sameSite === 'none' && !secure) continue;
      if (value === '' || /Expires=Thu, 01 Jan 1970/i.test(line) || /Max-Age=0\b/i.test(line)) {
        this.cookies.delete(name);
        this.#kept.delete(name);
      } else {
        this.cookies.set(name, value);
        this.#kept.set(name, { sameSite, secure });
      }
    }
    return answer;
  }

  /**
   * The Cookie header for a request to `url` by `method`, started from a page at `from` (none:
   * the person typed the address or followed a same-site link).
   */
  private headers(accept: string, url: URL, method: string, from?: string): Record<string, string> {
    const crossSite = from !== undefined && siteOf(new URL(from)) !== siteOf(url);
    const cookie = [...this.cookies]
      .filter(([name]) => {
        // A cookie the test put in the jar by hand goes as a Lax one.
        const kept = this.#kept.get(name) ?? { sameSite: 'lax', secure: false };
        if (kept.secure && !isTrustworthy(url)) return false;
        if (!crossSite) return true;
        return kept.sameSite === 'none' || (kept.sameSite === 'lax' && method === 'GET');
      })
      .map(([k, v]) => `${k}=${v}`)
      .join('; ');
    return { accept, ...(cookie ? { cookie } : {}) };
  }

  private urlOf(urlOrPath: string): URL {
    return new URL(urlOrPath.startsWith('http') ? urlOrPath : `${this.origin}${urlOrPath}`);
  }

  /** GET an absolute URL or a path of the SSO server (a top-level navigation). */
  async get(urlOrPath: string, accept = 'text/html', from?: string): Promise<HttpAnswer> {
    const url = this.urlOf(urlOrPath);
    return this.keep(
      await send(url.href, { headers: this.headers(accept, url, 'GET', from) }),
      url,
    );
  }

  /**
   * POST a form, from a page at `from` (default: a page of the SSO server itself, such as the
   * sign-out button; the IdP's page for its answer to the ACS).
   */
  async post(
    urlOrPath: string,
    form: Record<string, string>,
    accept = 'text/html',
    from: string = this.origin,
  ) {
    const url = this.urlOf(urlOrPath);
    return this.keep(
      await send(url.href, {
        method: 'POST',
        headers: {
          ...this.headers(accept, url, 'POST', from),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams(form).toString(),
      }),
      url,
    );
  }

  /** SP-initiated login: follows the redirect to the IdP as far as reading its AuthnRequest. */
  async startLogin(idp: TestIdp, sp: ServiceProviderUrls) {
    const res = await this.get(sp.loginUrl);
    if (res.status !== 302) throw new Error(`login answered ${res.status}: ${res.text}`);
    const location = res.headers.get('location') ?? '';
    return { location, request: idp.readAuthnRequest(location) };
  }

  /** The IdP's signed answer to `inResponseTo`, posted to the ACS (HTTP-POST binding). */
  async postResponse(
    idp: TestIdp,
    sp: ServiceProviderUrls,
    inResponseTo: string | undefined,
    nameId: string,
    extra: Partial<ResponseOptions> = {},
  ): Promise<HttpAnswer> {
    const { xml } = await idp.response({
      acsUrl: sp.acsUrl,
      audience: sp.entityId,
      inResponseTo,
      nameId,
      sign: 'assertion',
      attributes: { 'http://schemas.microsoft.com/identity/claims/displayname': nameId },
      ...extra,
    });
    // The IdP's page posts the form: a cross-site POST, as from Okta's or Entra's own site.
    return this.post(sp.acsUrl, { SAMLResponse: toPostBinding(xml) }, 'text/html', idp.ssoUrl);
  }

  /** The whole sign-in: login redirect, AuthnRequest, signed response to the ACS. */
  async signIn(idp: TestIdp, sp: ServiceProviderUrls, nameId: string): Promise<HttpAnswer> {
    const { request } = await this.startLogin(idp, sp);
    return this.postResponse(idp, sp, request.id, nameId);
  }

  whoami(slug: string): Promise<HttpAnswer> {
    return this.get(`/saml/${slug}/whoami`, 'application/json');
  }
}

/** What the directory holds for one tenant: its users, SAML links and sessions. */
export async function directoryOf(database: TestDatabase, tenantId: string) {
  const db = database.db;
  const [users, links, sessions] = await Promise.all([
    db
      .selectFrom('users')
      .select([
        'id',
        'user_name',
        'external_id',
        'source',
        'managed_by',
        'lifecycle_state',
        'active',
        'adopted_at',
        'deprovisioned_at',
        'purge_after',
      ])
      .where('tenant_id', '=', tenantId)
      .orderBy('created_at')
      .execute(),
    db
      .selectFrom('saml_links')
      .select(['idp_id', 'name_id', 'user_id'])
      .where('tenant_id', '=', tenantId)
      .execute(),
    db
      .selectFrom('sessions')
      .select(['user_id', 'idp_id'])
      .where('tenant_id', '=', tenantId)
      .execute(),
  ]);
  return { users, links, sessions };
}

/** The reasons of the tenant's refused sign-ins (audit `sign_in.refused`), oldest first. */
export async function refusalReasons(database: TestDatabase, tenantId: string): Promise<string[]> {
  const rows = await database.db
    .selectFrom('audit_events')
    .select('changes')
    .where('tenant_id', '=', tenantId)
    .where('action', '=', 'sign_in.refused')
    .orderBy('id')
    .execute();
  return rows.map((row) => String((row.changes as { reason?: string } | null)?.reason));
}
