// The routes of a tenant's long-lived bearer tokens, one kind at a time: SCIM tokens
// (/scim-tokens) and events tokens (/events-tokens) are issued, listed and revoked alike.
import type { Router } from 'express';
import { z } from 'zod';
import {
  MAX_TENANT_TOKEN_DESCRIPTION_LENGTH,
  MAX_TENANT_TOKEN_LIFETIME_DAYS,
  type ChangeContext,
  type Clock,
  type Db,
  type IssuedScimToken,
  type ScimToken,
} from '@roster/core';
import { operatorContext } from '../operator-context.js';
import { presentToken } from '../presenters.js';
import { route } from '../validation.js';

const createTokenSchema = z.strictObject({
  expiresInDays: z.number().int().min(1).max(MAX_TENANT_TOKEN_LIFETIME_DAYS).optional(),
  description: z.string().max(MAX_TENANT_TOKEN_DESCRIPTION_LENGTH).optional(),
});

/** The core calls of one kind of token (createScimToken, createEventsToken, …). */
export interface TenantTokenOperations {
  readonly create: (
    db: Db,
    slug: string,
    options: { expiresAt: Date | null; description?: string },
    context: ChangeContext,
    clock: Clock,
  ) => Promise<IssuedScimToken>;
  readonly list: (db: Db, slug: string) => Promise<ScimToken[]>;
  readonly revoke: (
    db: Db,
    slug: string,
    id: string,
    context: ChangeContext,
    clock: Clock,
  ) => Promise<ScimToken>;
}

/**
 * POST and GET on `paths.collection`, DELETE on `paths.item`. The answer to POST carries the token (the only
 * time it is shown) and whatever `issuedExtra` adds for the tenant (where to use it).
 */
export function tenantTokenRoutes(
  router: Router,
  paths: {
    readonly collection: '/tenants/:slug/scim-tokens' | '/tenants/:slug/events-tokens';
    readonly item: '/tenants/:slug/scim-tokens/:id' | '/tenants/:slug/events-tokens/:id';
  },
  operations: TenantTokenOperations,
  deps: { db: Db; clock: Clock; issuedExtra?: (slug: string) => Record<string, unknown> },
): void {
  const { db, clock } = deps;
  route(
    router,
    'post',
    paths.collection,
    { body: createTokenSchema },
    async (req, res, { body }) => {
      const expiresAt = body.expiresInDays
        ? new Date(clock.now().getTime() + body.expiresInDays * 86_400_000)
        : null;
      const issued = await operations.create(
        db,
        req.params.slug,
        { expiresAt, ...(body.description ? { description: body.description } : {}) },
        operatorContext(req),
        clock,
      );
      res.status(201).json({
        ...presentToken(issued, clock.now()),
        token: issued.token,
        ...deps.issuedExtra?.(req.params.slug),
      });
    },
  );

  route(router, 'get', paths.collection, {}, async (req, res) => {
    const now = clock.now();
    res.json({
      tokens: (await operations.list(db, req.params.slug)).map((t) => presentToken(t, now)),
    });
  });

  route(router, 'delete', paths.item, {}, async (req, res) => {
    const token = await operations.revoke(
      db,
      req.params.slug,
      req.params.id,
      operatorContext(req),
      clock,
    );
    res.json(presentToken(token, clock.now()));
  });
}
