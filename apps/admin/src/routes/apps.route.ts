// /v1/tenants/:slug/apps… and /v1/tenants/:slug/oidc/…: a tenant's apps (OpenID Connect
// clients, `roster app …`) and its signing keys (`roster oidc …`). Each handler is one core call;
// answers to add and rotate-secret carry the client secret, the only time it is ever shown.
import { Router } from 'express';
import { z } from 'zod';
import {
  addOidcApp,
  ADMIN_API_ROOT,
  ADMIN_PATHS,
  fillPath,
  getOidcApp,
  getTenantBySlug,
  isInsecureAppUri,
  listOidcApps,
  listSigningKeys,
  removeOidcApp,
  rotateOidcAppSecret,
  rotateSigningKeys,
  tenantDiscoveryUrl,
  tenantIssuerUrl,
  updateOidcApp,
  type Clock,
  type Db,
  type OidcApp,
  type SigningKeyInfo,
} from '@roster/core';
import { HttpError } from '@roster/http';
import { operatorContext } from '../operator-context.js';
import { route, without } from '../validation.js';

/**
 * Shapes only; core checks the values (URL rules, lengths, counts) and names the field. The list
 * bound here only keeps a huge body from being walked; core's own limit is far below it.
 */
const uriList = z.array(z.string()).max(1000);
const changeSchema = z.strictObject({
  name: z.string().optional(),
  redirectUris: uriList.optional(),
  postLogoutRedirectUris: uriList.optional(),
  backchannelLogoutUri: z.union([z.string(), z.null()]).optional(),
});
const addSchema = changeSchema.extend({
  name: z.string(),
  redirectUris: uriList,
  isPublic: z.boolean().optional(),
});

/** The registered URIs that use plain http off the local machine: fine for tests, not production. */
function insecureUriWarnings(app: OidcApp): string[] {
  const uris = [
    ...app.redirectUris,
    ...app.postLogoutRedirectUris,
    ...(app.backchannelLogoutUri ? [app.backchannelLogoutUri] : []),
  ];
  return uris
    .filter(isInsecureAppUri)
    .map((uri) => `${uri} uses http: use https in production (codes and tokens travel on it)`);
}

/** An app as the admin API shows it, with where its OpenID Provider is. Never the secret. */
export function presentApp(app: OidcApp, slug: string, ssoBaseUrl: string) {
  return {
    clientId: app.clientId,
    kind: app.kind,
    name: app.name,
    redirectUris: app.redirectUris,
    postLogoutRedirectUris: app.postLogoutRedirectUris,
    isPublic: app.isPublic,
    backchannelLogoutUri: app.backchannelLogoutUri,
    issuer: tenantIssuerUrl(ssoBaseUrl, slug),
    discoveryUrl: tenantDiscoveryUrl(ssoBaseUrl, slug),
    createdAt: app.createdAt.toISOString(),
    updatedAt: app.updatedAt.toISOString(),
    secretRotatedAt: app.secretRotatedAt?.toISOString() ?? null,
    warnings: insecureUriWarnings(app),
  };
}

const presentKey = (key: SigningKeyInfo) => ({
  kid: key.kid,
  status: key.status,
  createdAt: key.createdAt.toISOString(),
  promotedAt: key.promotedAt?.toISOString() ?? null,
  retiredAt: key.retiredAt?.toISOString() ?? null,
  publicJwk: key.publicJwk,
});

export function appsRouter(db: Db, clock: Clock, ssoBaseUrl: string): Router {
  const router = Router();

  route(router, 'post', ADMIN_PATHS.apps, { body: addSchema }, async (req, res, { body }) => {
    const tenant = await getTenantBySlug(db, req.params.slug);
    const { app, clientSecret } = await addOidcApp(
      db,
      tenant.id,
      without(body),
      operatorContext(req),
      clock,
    );
    const location = fillPath(ADMIN_PATHS.app, { slug: tenant.slug, clientId: app.clientId });
    res
      .status(201)
      .location(`${ADMIN_API_ROOT}${location}`)
      .json({ ...presentApp(app, tenant.slug, ssoBaseUrl), clientSecret });
  });

  route(router, 'get', ADMIN_PATHS.apps, {}, async (req, res) => {
    const tenant = await getTenantBySlug(db, req.params.slug);
    const apps = await listOidcApps(db, tenant.id);
    res.json({ apps: apps.map((app) => presentApp(app, tenant.slug, ssoBaseUrl)) });
  });

  route(router, 'get', ADMIN_PATHS.app, {}, async (req, res) => {
    const tenant = await getTenantBySlug(db, req.params.slug);
    const app = await getOidcApp(db, tenant.id, req.params.clientId);
    res.json(presentApp(app, tenant.slug, ssoBaseUrl));
  });

  route(router, 'patch', ADMIN_PATHS.app, { body: changeSchema }, async (req, res, { body }) => {
    const change = without(body);
    if (Object.keys(change).length === 0) throw new HttpError(400, 'Invalid', 'nothing to change');
    const tenant = await getTenantBySlug(db, req.params.slug);
    const app = await updateOidcApp(
      db,
      tenant.id,
      req.params.clientId,
      change,
      operatorContext(req),
      clock,
    );
    res.json(presentApp(app, tenant.slug, ssoBaseUrl));
  });

  route(router, 'delete', ADMIN_PATHS.app, {}, async (req, res) => {
    const tenant = await getTenantBySlug(db, req.params.slug);
    const removed = await removeOidcApp(db, tenant.id, req.params.clientId, operatorContext(req));
    res.json({ removed: presentApp(removed, tenant.slug, ssoBaseUrl) });
  });

  route(router, 'post', ADMIN_PATHS.appSecretRotation, {}, async (req, res) => {
    const tenant = await getTenantBySlug(db, req.params.slug);
    const { app, clientSecret } = await rotateOidcAppSecret(
      db,
      tenant.id,
      req.params.clientId,
      operatorContext(req),
      clock,
    );
    res.json({ ...presentApp(app, tenant.slug, ssoBaseUrl), clientSecret });
  });

  route(router, 'get', ADMIN_PATHS.oidcKeys, {}, async (req, res) => {
    const tenant = await getTenantBySlug(db, req.params.slug);
    const keys = await listSigningKeys(db, tenant.id);
    res.json({ issuer: tenantIssuerUrl(ssoBaseUrl, tenant.slug), keys: keys.map(presentKey) });
  });

  route(router, 'post', ADMIN_PATHS.oidcKeyRotation, {}, async (req, res) => {
    const tenant = await getTenantBySlug(db, req.params.slug);
    const rotated = await rotateSigningKeys(db, tenant.id, operatorContext(req), clock);
    res.json({ issuer: tenantIssuerUrl(ssoBaseUrl, tenant.slug), ...rotated });
  });

  return router;
}
