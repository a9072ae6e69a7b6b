// /v1/tenants/:slug/idps…: a tenant's SAML identity providers (`roster idp …`). Each handler is
// one core call; the answer carries the SP values an IdP admin pastes into the IdP.
import { Router } from 'express';
import { z } from 'zod';
import {
  createSamlIdp,
  describeCertificate,
  getSamlIdp,
  getTenantBySlug,
  IDP_PRESET_NAMES,
  JIT_POLICIES,
  listSamlIdps,
  MATCH_BY,
  MAX_IDP_METADATA_BYTES,
  removeSamlIdp,
  SAML_ATTRIBUTE_FIELDS,
  serviceProviderUrls,
  updateSamlIdp,
  type Clock,
  type Db,
  type IdpMetadataSource,
  type OutboundPolicy,
  type SamlIdp,
  type SamlIdpSettings,
  ADMIN_PATHS,
  ADMIN_API_ROOT,
  fillPath,
} from '@roster/core';
import { HttpError } from '@roster/http';
import { operatorContext } from '../operator-context.js';
import { route } from '../validation.js';

const settingsSchema = z.strictObject({
  name: z.string().max(64).optional(),
  preset: z.enum(IDP_PRESET_NAMES).optional(),
  jitPolicy: z.enum(JIT_POLICIES).optional(),
  matchBy: z.enum(MATCH_BY).optional(),
  attributeMap: z
    .partialRecord(z.enum(SAML_ATTRIBUTE_FIELDS), z.string().min(1).max(256))
    .optional(),
  groupsAttribute: z.union([z.string().min(1).max(256), z.null()]).optional(),
  allowIdpInitiated: z.boolean().optional(),
  wantResponseSigned: z.boolean().optional(),
  metadataXml: z.string().max(MAX_IDP_METADATA_BYTES).optional(),
  metadataUrl: z.string().max(2048).optional(),
});

/** The SP's values (what `roster idp add --json` prints) and the IdP's own, as stored. */
export function presentIdp(idp: SamlIdp, slug: string, ssoBaseUrl: string) {
  const sp = serviceProviderUrls(ssoBaseUrl, slug, idp.id);
  return {
    id: idp.id,
    name: idp.name,
    entityId: sp.entityId,
    acsUrl: sp.acsUrl,
    loginUrl: sp.loginUrl,
    metadataUrl: sp.metadataUrl,
    whoamiUrl: sp.whoamiUrl,
    logoutUrl: sp.logoutUrl,
    sloUrl: sp.sloUrl,
    idp: {
      entityId: idp.entityId,
      ssoUrl: idp.ssoUrl,
      sloUrl: idp.sloUrl,
      metadataUrl: idp.metadataUrl,
      signingCertificates: idp.signingCertificates.map(describeCertificate),
    },
    wantResponseSigned: idp.wantResponseSigned,
    jitPolicy: idp.jitPolicy,
    matchBy: idp.matchBy,
    attributeMap: idp.attributeMap,
    groupsAttribute: idp.groupsAttribute,
    allowIdpInitiated: idp.allowIdpInitiated,
    version: idp.version,
    createdAt: idp.createdAt.toISOString(),
    updatedAt: idp.updatedAt.toISOString(),
  };
}

type Body = z.output<typeof settingsSchema>;

function metadataSource(
  body: Body,
  required: boolean,
  policy: OutboundPolicy,
): IdpMetadataSource | undefined {
  if (body.metadataXml !== undefined && body.metadataUrl !== undefined)
    throw new HttpError(400, 'Invalid', 'give either metadataXml or metadataUrl, not both');
  if (body.metadataXml !== undefined) return { xml: body.metadataXml };
  if (body.metadataUrl !== undefined) return { url: body.metadataUrl, policy };
  if (required)
    throw new HttpError(
      400,
      'Invalid',
      'the IdP metadata is missing: give metadataXml or metadataUrl',
    );
  return undefined;
}

function settingsOf(body: Body): SamlIdpSettings {
  const { metadataXml: _xml, metadataUrl: _url, ...rest } = body;
  return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
}

export function idpsRouter(
  db: Db,
  clock: Clock,
  ssoBaseUrl: string,
  outboundPolicy: OutboundPolicy,
): Router {
  const router = Router();

  route(router, 'post', ADMIN_PATHS.idps, { body: settingsSchema }, async (req, res, { body }) => {
    const source = metadataSource(body, true, outboundPolicy) as IdpMetadataSource;
    const tenant = await getTenantBySlug(db, req.params.slug);
    const idp = await createSamlIdp(
      db,
      tenant.id,
      source,
      settingsOf(body),
      operatorContext(req),
      clock,
    );
    res
      .status(201)
      .location(`${ADMIN_API_ROOT}${fillPath(ADMIN_PATHS.idp, { slug: tenant.slug, idp: idp.id })}`)
      .json(presentIdp(idp, tenant.slug, ssoBaseUrl));
  });

  route(router, 'get', ADMIN_PATHS.idps, {}, async (req, res) => {
    const tenant = await getTenantBySlug(db, req.params.slug);
    const idps = await listSamlIdps(db, tenant.id);
    res.json({ idps: idps.map((idp) => presentIdp(idp, tenant.slug, ssoBaseUrl)) });
  });

  route(router, 'get', ADMIN_PATHS.idp, {}, async (req, res) => {
    const tenant = await getTenantBySlug(db, req.params.slug);
    res.json(presentIdp(await getSamlIdp(db, tenant.id, req.params.idp), tenant.slug, ssoBaseUrl));
  });

  route(router, 'patch', ADMIN_PATHS.idp, { body: settingsSchema }, async (req, res, { body }) => {
    const metadata = metadataSource(body, false, outboundPolicy);
    const change = { ...settingsOf(body), ...(metadata ? { metadata } : {}) };
    if (Object.keys(change).length === 0) throw new HttpError(400, 'Invalid', 'nothing to change');
    const tenant = await getTenantBySlug(db, req.params.slug);
    const idp = await updateSamlIdp(
      db,
      tenant.id,
      req.params.idp,
      change,
      operatorContext(req),
      clock,
    );
    res.json(presentIdp(idp, tenant.slug, ssoBaseUrl));
  });

  route(router, 'delete', ADMIN_PATHS.idp, {}, async (req, res) => {
    const tenant = await getTenantBySlug(db, req.params.slug);
    const removed = await removeSamlIdp(db, tenant.id, req.params.idp, operatorContext(req));
    res.json({
      removed: presentIdp(removed.idp, tenant.slug, ssoBaseUrl),
      sessionsEnded: removed.sessionsEnded,
      linksRemoved: removed.linksRemoved,
    });
  });

  return router;
}
