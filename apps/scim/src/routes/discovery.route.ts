import { Router, type Response } from 'express';
import SCIMMY from 'scimmy';
import { ISSUED_SCIM_EVENT_URIS } from '@roster/core';
import { SCIM_CONTENT_TYPE, ScimError } from '../errors/scim-error.js';
import { baseUrlOf } from '../http/scim-request.js';
import { withScimmy } from '../http/scimmy-errors.js';
import { PAGINATION_CONFIG } from '../list/list-request.js';
import { LIST_RESPONSE_SCHEMA } from '../scim-config.js';

type Json = Record<string, unknown>;

/** scimmy's discovery documents, with meta.location made absolute for the tenant's base URL. */
function located(document: Json, base: string, endpoint: 'Schemas' | 'ResourceTypes'): Json {
  const meta = (document.meta ?? {}) as Json;
  return { ...document, meta: { ...meta, location: `${base}/${endpoint}/${String(document.id)}` } };
}

function sendDiscoveryList(res: Response, documents: Json[]): void {
  res.type(SCIM_CONTENT_TYPE).json({
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults: documents.length,
    itemsPerPage: documents.length,
    startIndex: 1,
    Resources: documents,
  });
}

async function readList(resource: { read(): Promise<unknown> }): Promise<Json[]> {
  const list = (await resource.read()) as { Resources: Json[] };
  return list.Resources;
}

/** RFC 9967 §4: the `securityEvents` capability of the ServiceProviderConfig. */
const SECURITY_EVENTS_CONFIG = {
  asyncRequest: 'none',
  eventUris: ISSUED_SCIM_EVENT_URIS,
} as const;

/** RFC 7644 §4: what this server supports, per tenant base URL. */
export function discoveryRouter(): Router {
  const router = Router({ mergeParams: true });

  router.get('/ServiceProviderConfig', async (_req, res) => {
    const config = (await new SCIMMY.Resources.ServiceProviderConfig().read()) as unknown as Json;
    res.type(SCIM_CONTENT_TYPE).json({
      ...config,
      // RFC 9865 §4: which paging methods the server offers (scimmy predates it).
      pagination: PAGINATION_CONFIG,
      // RFC 9967 §4: the SCIM security events a tenant's `scim-events` webhooks are sent (pushed
      // as SETs, RFC 8935); SCIM requests themselves always complete synchronously.
      securityEvents: SECURITY_EVENTS_CONFIG,
      meta: {
        resourceType: 'ServiceProviderConfig',
        location: `${baseUrlOf(res)}/ServiceProviderConfig`,
      },
    });
  });

  router.get('/Schemas', async (_req, res) => {
    const schemas = await readList(new SCIMMY.Resources.Schema());
    sendDiscoveryList(
      res,
      schemas.map((s) => located(s, baseUrlOf(res), 'Schemas')),
    );
  });
  router.get('/Schemas/:id', async (req, res) => {
    const schema = await readOne(() => new SCIMMY.Resources.Schema(req.params.id).read());
    res.type(SCIM_CONTENT_TYPE).json(located(schema, baseUrlOf(res), 'Schemas'));
  });

  router.get('/ResourceTypes', async (_req, res) => {
    const types = await readList(new SCIMMY.Resources.ResourceType());
    sendDiscoveryList(
      res,
      types.map((t) => located(t, baseUrlOf(res), 'ResourceTypes')),
    );
  });
  router.get('/ResourceTypes/:id', async (req, res) => {
    const type = await readOne(() => new SCIMMY.Resources.ResourceType(req.params.id).read());
    res.type(SCIM_CONTENT_TYPE).json(located(type, baseUrlOf(res), 'ResourceTypes'));
  });

  return router;
}

async function readOne(read: () => Promise<unknown>): Promise<Json> {
  try {
    return (await read()) as Json;
  } catch (error) {
    if (error instanceof SCIMMY.Types.Error) throw new ScimError(404, error.message);
    return withScimmy(() => {
      throw error;
    });
  }
}
