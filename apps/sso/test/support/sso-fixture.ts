// One tenant with two IdPs made at test time (an Okta-like one that signs Response and
// Assertion, an Entra-like one that signs only the assertion), the SSO app, and a browser-ish
// helper that carries cookies by hand (supertest's agent drops Secure cookies over http).
import request from 'supertest';
import type { Express } from 'express';
import {
  createLogger,
  createSamlIdp,
  createTenant,
  serviceProviderUrls,
  systemClock,
  type SamlIdp,
  type ServiceProviderUrls,
  type Tenant,
} from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { createLifecycle } from '@roster/http';
import { createSsoApp, type SsoSettings } from '../../src/index.js';
import { TestIdp, toPostBinding, type ResponseOptions } from '../../src/testing/test-idp.js';

export const BASE_URL = 'https://sso.example.test';
export const APP_ORIGIN = 'https://app.example.test';
const operator = { actor: { type: 'operator' as const, id: 'test' } };

export interface Fixture {
  readonly database: TestDatabase;
  readonly tenant: Tenant;
  readonly okta: { idp: TestIdp; config: SamlIdp; sp: ServiceProviderUrls };
  readonly entra: { idp: TestIdp; config: SamlIdp; sp: ServiceProviderUrls };
  app(settings?: Partial<SsoSettings>): Express;
}

export async function createFixture(slug = 'acme'): Promise<Fixture> {
  const database = await createTestDatabase();
  const tenant = await createTenant(database.db, slug, operator, { allowedOrigins: [APP_ORIGIN] });
  const oktaIdp = await TestIdp.create({ entityId: 'http://www.okta.com/exk-test' });
  const entraIdp = await TestIdp.create({ entityId: 'https://sts.windows.net/tenant-test/' });
  const oktaConfig = await createSamlIdp(
    database.db,
    tenant.id,
    { xml: oktaIdp.metadataXml() },
    { name: 'okta', preset: 'okta' },
    operator,
    systemClock,
  );
  const entraConfig = await createSamlIdp(
    database.db,
    tenant.id,
    { xml: entraIdp.metadataXml() },
    { name: 'entra', preset: 'entra' },
    operator,
    systemClock,
  );
  return {
    database,
    tenant,
    okta: {
      idp: oktaIdp,
      config: oktaConfig,
      sp: serviceProviderUrls(BASE_URL, slug, oktaConfig.id),
    },
    entra: {
      idp: entraIdp,
      config: entraConfig,
      sp: serviceProviderUrls(BASE_URL, slug, entraConfig.id),
    },
    app: (settings = {}) =>
      createSsoApp({
        database,
        logger: createLogger({ level: 'silent' }),
        clock: systemClock,
        lifecycle: createLifecycle(),
        baseUrl: BASE_URL,
        settings,
      }),
  };
}

/** The path part of one of our absolute URLs (supertest talks to the app directly). */
export const pathOf = (url: string): string => {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
};

/** A browser: a cookie jar across requests to the app. */
export class Browser {
  readonly cookies = new Map<string, string>();
  readonly app: Express;
  constructor(app: Express) {
    this.app = app;
  }

  private keep(res: request.Response) {
    const setCookies = res.headers['set-cookie'] as unknown as string[] | undefined;
    for (const line of setCookies ?? []) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      if (value === '' || /Expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  private cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(path: string, accept = 'text/html') {
    return this.keep(
      await request(this.app).get(path).set('cookie', this.cookieHeader()).set('accept', accept),
    );
  }

  async post(path: string, form: Record<string, string>, accept = 'text/html') {
    return this.keep(
      await request(this.app)
        .post(path)
        .type('form')
        .set('cookie', this.cookieHeader())
        .set('accept', accept)
        .send(form),
    );
  }

  /** Starts an SP-initiated login; returns the AuthnRequest id the IdP received. */
  async startLogin(idp: TestIdp, sp: ServiceProviderUrls, returnTo?: string) {
    const query = returnTo ? `?returnTo=${encodeURIComponent(returnTo)}` : '';
    const res = await this.get(`${pathOf(sp.loginUrl)}${query}`);
    if (res.status !== 302) throw new Error(`login answered ${res.status}: ${res.text}`);
    const location = String(res.headers.location);
    return { location, request: idp.readAuthnRequest(location) };
  }

  async postResponse(sp: ServiceProviderUrls, xml: string, relayState?: string) {
    return this.post(pathOf(sp.acsUrl), {
      SAMLResponse: toPostBinding(xml),
      ...(relayState ? { RelayState: relayState } : {}),
    });
  }

  async whoami(slug = 'acme') {
    return this.get(`/saml/${slug}/whoami`, 'application/json');
  }
}

/** Defaults for a valid response to `inResponseTo` at this SP. */
export const answer = (
  sp: ServiceProviderUrls,
  inResponseTo: string | undefined,
  nameId: string,
  extra: Partial<ResponseOptions> = {},
): ResponseOptions => ({
  acsUrl: sp.acsUrl,
  audience: sp.entityId,
  inResponseTo,
  nameId,
  ...extra,
});

/** Row counts of everything a sign-in may write to the directory. */
export async function directoryCounts(database: TestDatabase) {
  const count = async (
    table: 'users' | 'saml_links' | 'sessions' | 'groups' | 'group_members' | 'user_emails',
  ) =>
    Number(
      (
        await database.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return {
    users: await count('users'),
    links: await count('saml_links'),
    sessions: await count('sessions'),
    groups: await count('groups'),
    memberships: await count('group_members'),
    emails: await count('user_emails'),
  };
}

/** The last audit event of refused sign-ins, if any. */
export async function lastRefusal(database: TestDatabase) {
  const row = await database.db
    .selectFrom('audit_events')
    .select(['changes', 'request_id'])
    .where('action', '=', 'sign_in.refused')
    .orderBy('id', 'desc')
    .executeTakeFirst();
  return row?.changes as { reason?: string; detail?: string } | undefined;
}
