// A tenant's SCIM clients: OAuth 2.0 clients of its OpenID Provider that get short-lived access
// tokens for the tenant's SCIM endpoint by the client credentials grant (RFC 6749 §4.4), for IdPs
// that no longer take a long-lived bearer token (Microsoft Entra). Stored as `oidc_apps` rows of
// kind 'scim': confidential, no redirect URIs, their own access token lifetime.
import { systemClock, type Clock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import type { Db, Tx } from '../db/transaction.js';
import { invalid, notFound } from '../errors.js';
import {
  checkName,
  findOidcApp,
  insertOidcApp,
  listOidcApps,
  removeOidcApp,
  rotateOidcAppSecret,
  type OidcApp,
} from './oidc-app.js';

/** Shortest access token lifetime a SCIM client may have, in minutes. */
export const MIN_SCIM_TOKEN_LIFETIME_MINUTES = 60;
/** Longest access token lifetime a SCIM client may have, in minutes (6 hours). */
export const MAX_SCIM_TOKEN_LIFETIME_MINUTES = 360;
/** A SCIM client's access token lifetime when none is given, in minutes. */
export const DEFAULT_SCIM_TOKEN_LIFETIME_MINUTES = 60;
/** The scope a SCIM access token carries (when the client asks for it). */
export const SCIM_TOKEN_SCOPE = 'scim';

/** A SCIM client as stored: never its secret, only when it was set. */
export interface ScimClient {
  readonly id: string;
  readonly tenantId: string;
  /** `app_` and 22 base64url characters: unique across every tenant. */
  readonly clientId: string;
  readonly name: string;
  /** How long each access token it gets lives. */
  readonly tokenLifetimeMinutes: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly secretRotatedAt: Date | null;
}

/** What an operator gives to register a SCIM client. */
export interface ScimClientInput {
  readonly name: string;
  /** Within 60-360; default 60. */
  readonly tokenLifetimeMinutes?: number;
}

const isScimClient = (app: OidcApp) => app.kind === 'scim';

function toScimClient(app: OidcApp): ScimClient {
  return {
    id: app.id,
    tenantId: app.tenantId,
    clientId: app.clientId,
    name: app.name,
    tokenLifetimeMinutes: app.tokenLifetimeMinutes ?? DEFAULT_SCIM_TOKEN_LIFETIME_MINUTES,
    createdAt: app.createdAt,
    updatedAt: app.updatedAt,
    secretRotatedAt: app.secretRotatedAt,
  };
}

function checkTokenLifetime(minutes: unknown): number {
  if (
    typeof minutes !== 'number' ||
    !Number.isInteger(minutes) ||
    minutes < MIN_SCIM_TOKEN_LIFETIME_MINUTES ||
    minutes > MAX_SCIM_TOKEN_LIFETIME_MINUTES
  )
    throw invalid(
      `tokenLifetimeMinutes must be a whole number of minutes from ${MIN_SCIM_TOKEN_LIFETIME_MINUTES} to ${MAX_SCIM_TOKEN_LIFETIME_MINUTES}`,
      { field: 'tokenLifetimeMinutes' },
    );
  return minutes;
}

/**
 * Registers a SCIM client in a tenant. Its secret is returned here only (only its SHA-256 is
 * stored). Bad input is `Invalid` naming the field; an unknown tenant is `NotFound`.
 *
 * @example
 * const { client, clientSecret } = await addScimClient(db, tenant.id,
 *   { name: 'Entra', tokenLifetimeMinutes: 120 }, ctx);
 */
export async function addScimClient(
  db: Db,
  tenantId: string,
  input: ScimClientInput,
  context: ChangeContext,
  clock: Clock = systemClock,
): Promise<{ client: ScimClient; clientSecret: string }> {
  const name = checkName(input.name);
  const tokenLifetimeMinutes = checkTokenLifetime(
    input.tokenLifetimeMinutes ?? DEFAULT_SCIM_TOKEN_LIFETIME_MINUTES,
  );
  const { app, clientSecret } = await insertOidcApp(
    db,
    tenantId,
    {
      kind: 'scim',
      name,
      redirectUris: [],
      postLogoutRedirectUris: [],
      isPublic: false,
      backchannelLogoutUri: null,
      tokenLifetimeMinutes,
    },
    context,
    clock,
  );
  if (clientSecret === null) throw new Error('a confidential client always gets a secret');
  return { client: toScimClient(app), clientSecret };
}

/** The tenant's SCIM clients, oldest first. */
export async function listScimClients(db: Db, tenantId: string): Promise<ScimClient[]> {
  return (await listOidcApps(db, tenantId, 'scim')).filter(isScimClient).map(toScimClient);
}

/** A SCIM client of the tenant by client id; undefined when there is none (or it is an app). */
export async function findScimClient(
  db: Db | Tx,
  tenantId: string,
  clientId: string,
): Promise<ScimClient | undefined> {
  const app = await findOidcApp(db, tenantId, clientId);
  return app && isScimClient(app) ? toScimClient(app) : undefined;
}

/** Like {@link findScimClient}, but a missing SCIM client is a `NotFound` error. */
export async function getScimClient(
  db: Db | Tx,
  tenantId: string,
  clientId: string,
): Promise<ScimClient> {
  const client = await findScimClient(db, tenantId, clientId);
  if (!client)
    throw notFound(`SCIM client "${clientId.slice(0, 100)}" does not exist in this tenant`);
  return client;
}

/** Removes a SCIM client: its secret and every access token it got stop working at once. */
export async function removeScimClient(
  db: Db,
  tenantId: string,
  clientId: string,
  context: ChangeContext,
): Promise<ScimClient> {
  return toScimClient(await removeOidcApp(db, tenantId, clientId, context, 'scim'));
}

/**
 * Gives a SCIM client a new secret. The old secret, and the access tokens issued before, stop
 * working at once.
 */
export async function rotateScimClientSecret(
  db: Db,
  tenantId: string,
  clientId: string,
  context: ChangeContext,
  clock: Clock = systemClock,
): Promise<{ client: ScimClient; clientSecret: string }> {
  const { app, clientSecret } = await rotateOidcAppSecret(
    db,
    tenantId,
    clientId,
    context,
    clock,
    'scim',
  );
  return { client: toScimClient(app), clientSecret };
}
