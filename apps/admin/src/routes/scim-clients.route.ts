// /v1/tenants/:slug/scim-clients…: a tenant's SCIM clients (`roster scim-client …`), which get
// short-lived access tokens for the tenant's SCIM endpoint by the client credentials grant.
// Each handler is one core call; answers to add and rotate-secret carry the client secret, the
// only time it is ever shown.
import { Router } from 'express';
import { z } from 'zod';
import {
  addScimClient,
  ADMIN_API_ROOT,
  ADMIN_PATHS,
  fillPath,
  getScimClient,
  getTenantBySlug,
  listScimClients,
  removeScimClient,
  rotateScimClientSecret,
  tenantIssuerUrl,
  tenantScimUrl,
  tenantTokenUrl,
  type Clock,
  type Db,
  type ScimClient,
} from '@roster/core';
import { operatorContext } from '../operator-context.js';
import { route, without } from '../validation.js';

/** Shapes only; core checks the values (the name, the 60-360 minute lifetime) and names the field. */
const addSchema = z.strictObject({
  name: z.string(),
  tokenLifetimeMinutes: z.number().optional(),
});

/** Where a tenant's SCIM clients get tokens and what for: the public base URLs. */
export interface ScimClientUrls {
  readonly scimBaseUrl: string;
  readonly ssoBaseUrl: string;
}

/**
 * A SCIM client as the admin API shows it, with what an IdP's provisioning settings ask for:
 * the token endpoint, the issuer, and the audience (the tenant's SCIM URL). Never the secret.
 */
export function presentScimClient(client: ScimClient, slug: string, urls: ScimClientUrls) {
  return {
    clientId: client.clientId,
    name: client.name,
    tokenLifetimeMinutes: client.tokenLifetimeMinutes,
    tokenUrl: tenantTokenUrl(urls.ssoBaseUrl, slug),
    issuer: tenantIssuerUrl(urls.ssoBaseUrl, slug),
    audience: tenantScimUrl(urls.scimBaseUrl, slug),
    createdAt: client.createdAt.toISOString(),
    updatedAt: client.updatedAt.toISOString(),
    secretRotatedAt: client.secretRotatedAt?.toISOString() ?? null,
  };
}

export function scimClientsRouter(db: Db, clock: Clock, urls: ScimClientUrls): Router {
  const router = Router();

  route(
    router,
    'post',
    ADMIN_PATHS.scimClients,
    { body: addSchema },
    async (req, res, { body }) => {
      const tenant = await getTenantBySlug(db, req.params.slug);
      const { client, clientSecret } = await addScimClient(
        db,
        tenant.id,
        without(body),
        operatorContext(req),
        clock,
      );
      const location = fillPath(ADMIN_PATHS.scimClient, {
        slug: tenant.slug,
        clientId: client.clientId,
      });
      res
        .status(201)
        .location(`${ADMIN_API_ROOT}${location}`)
        .json({ ...presentScimClient(client, tenant.slug, urls), clientSecret });
    },
  );

  route(router, 'get', ADMIN_PATHS.scimClients, {}, async (req, res) => {
    const tenant = await getTenantBySlug(db, req.params.slug);
    const clients = await listScimClients(db, tenant.id);
    res.json({ scimClients: clients.map((c) => presentScimClient(c, tenant.slug, urls)) });
  });

  route(router, 'get', ADMIN_PATHS.scimClient, {}, async (req, res) => {
    const tenant = await getTenantBySlug(db, req.params.slug);
    const client = await getScimClient(db, tenant.id, req.params.clientId);
    res.json(presentScimClient(client, tenant.slug, urls));
  });

  route(router, 'delete', ADMIN_PATHS.scimClient, {}, async (req, res) => {
    const tenant = await getTenantBySlug(db, req.params.slug);
    const removed = await removeScimClient(
      db,
      tenant.id,
      req.params.clientId,
      operatorContext(req),
    );
    res.json({ removed: presentScimClient(removed, tenant.slug, urls) });
  });

  route(router, 'post', ADMIN_PATHS.scimClientSecretRotation, {}, async (req, res) => {
    const tenant = await getTenantBySlug(db, req.params.slug);
    const { client, clientSecret } = await rotateScimClientSecret(
      db,
      tenant.id,
      req.params.clientId,
      operatorContext(req),
      clock,
    );
    res.json({ ...presentScimClient(client, tenant.slug, urls), clientSecret });
  });

  return router;
}
