// What apps behind Roster ask (`whoami`), and the page a person lands on after login.
import { Router, type Request } from 'express';
import {
  authenticateSession,
  fillPath,
  findSamlIdp,
  listSamlIdps,
  serviceProviderUrls,
  SSO_PATHS,
  type Tenant,
} from '@roster/core';
import { readCookie, SESSION_COOKIE } from '../http/cookies.js';
import { landingPage, signedOutPage } from '../http/pages.js';
import { SIGNED_OUT_NOTICES, tenantOf, type SignedOutNotice, type SsoContext } from './context.js';

export function sessionRouter(ctx: SsoContext): Router {
  const router = Router();
  const policy = {
    idleTimeoutMs: ctx.settings.sessionIdleTimeoutMs,
    absoluteTimeoutMs: ctx.settings.sessionAbsoluteTimeoutMs,
  };
  const signedIn = async (req: Request, tenant: Tenant) => {
    const token = readCookie(req, SESSION_COOKIE);
    return token ? authenticateSession(ctx.db, tenant.id, token, ctx.clock, policy) : undefined;
  };

  // JSON of the signed-in person; 401 when there is no live session.
  router.get(SSO_PATHS.whoami, async (req, res) => {
    const tenant = await tenantOf(ctx, req);
    const found = await signedIn(req, tenant);
    res.set('cache-control', 'no-store');
    if (!found) {
      res.status(401).json({
        error: { code: 'Unauthorized', message: 'not signed in', requestId: req.id },
      });
      return;
    }
    res.json({
      tenant: tenant.slug,
      user: found.user,
      session: {
        idpId: found.session.idpId,
        createdAt: found.session.createdAt.toISOString(),
        idleExpiresAt: found.session.idleExpiresAt.toISOString(),
        absoluteExpiresAt: found.session.absoluteExpiresAt.toISOString(),
      },
    });
  });

  // The plain landing page after login (when no returnTo was given).
  router.get([SSO_PATHS.tenantBase, SSO_PATHS.landing], async (req, res) => {
    const tenant = await tenantOf(ctx, req);
    const found = await signedIn(req, tenant);
    if (found) {
      const idp = found.session.idpId
        ? await findSamlIdp(ctx.db, tenant.id, found.session.idpId)
        : undefined;
      const logoutPath = fillPath(SSO_PATHS.logout, { tenant: tenant.slug });
      return landingPage(res, found.user, logoutPath, idp?.sloUrl ?? null);
    }
    const idps = await listSamlIdps(ctx.db, tenant.id);
    const notice = req.query.notice;
    signedOutPage(
      res,
      idps.map((idp) => ({
        name: idp.name,
        url: serviceProviderUrls(ctx.baseUrl, tenant.slug, idp.id).loginUrl,
      })),
      typeof notice === 'string' && Object.hasOwn(SIGNED_OUT_NOTICES, notice)
        ? { notice: SIGNED_OUT_NOTICES[notice as SignedOutNotice] }
        : {},
    );
  });

  return router;
}
