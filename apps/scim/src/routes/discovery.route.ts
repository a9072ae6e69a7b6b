import { Router } from 'express';
import SCIMMY from 'scimmy';
import { SCIM_CONTENT_TYPE } from '../errors/scim-error.js';

/** RFC 7644 §4: the service provider's configuration, per tenant base URL. */
export function discoveryRouter(): Router {
  const router = Router({ mergeParams: true });
  router.get('/ServiceProviderConfig', async (req, res) => {
    const config = (await new SCIMMY.Resources.ServiceProviderConfig().read()) as unknown as Record<
      string,
      unknown
    >;
    const base = `${String(res.locals.scimBaseUrl)}`;
    res.type(SCIM_CONTENT_TYPE).json({
      ...config,
      meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
    });
  });
  return router;
}
