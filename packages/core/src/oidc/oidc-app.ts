// A tenant's apps: the OAuth 2.0 clients of its OpenID Provider. Registered by an operator (no
// dynamic registration), each with a random client id and, unless public, a secret stored as its
// SHA-256. Every query names the tenant.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Selectable } from 'kysely';
import { recordAudit } from '../audit/audit.repository.js';
import { systemClock, type Clock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import type { OidcAppKind, OidcAppTable } from '../db/database.js';
import { inTransaction, type Db, type Tx } from '../db/transaction.js';
import { invalid, notFound, sqlState } from '../errors.js';
import { isStorableText } from '../input-limits.js';

/** An app (OAuth 2.0 client) of a tenant as stored: never its secret, only when it was set. */
export interface OidcApp {
  readonly id: string;
  readonly tenantId: string;
  /** `app_` and 22 base64url characters: unique across every tenant. */
  readonly clientId: string;
  /** 'app': a relying party; 'scim': a SCIM client on the client credentials grant. */
  readonly kind: OidcAppKind;
  readonly name: string;
  /** Matched exactly, character for character (OAuth 2.0 Security BCP, RFC 9700 §4.1.3). */
  readonly redirectUris: string[];
  readonly postLogoutRedirectUris: string[];
  /** A public client (a SPA, a native app) has no secret and must use PKCE (RFC 7636). */
  readonly isPublic: boolean;
  /** Where logout tokens are POSTed (OpenID Connect Back-Channel Logout 1.0 §2.2). */
  readonly backchannelLogoutUri: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly secretRotatedAt: Date | null;
  /** How long a SCIM client's access tokens live (kind 'scim'); null for an app. */
  readonly tokenLifetimeMinutes: number | null;
}

/** What an operator gives to register an app. */
export interface OidcAppInput {
  readonly name: string;
  readonly redirectUris: string[];
  readonly postLogoutRedirectUris?: string[];
  /** Default false: a confidential client, which gets a secret. */
  readonly isPublic?: boolean;
  readonly backchannelLogoutUri?: string | null;
}

/** A change to an app; what is absent stays. Whether it is public is fixed at registration. */
export interface OidcAppChange {
  readonly name?: string;
  readonly redirectUris?: string[];
  readonly postLogoutRedirectUris?: string[];
  readonly backchannelLogoutUri?: string | null;
}

/** Longest app name, in characters. */
export const MAX_OIDC_APP_NAME_LENGTH = 200;
/** Most redirect URIs (and, separately, post-logout redirect URIs) one app may register. */
export const MAX_OIDC_REDIRECT_URIS = 20;
/** Longest URI an app may register, in characters (what browsers and proxies pass safely). */
export const MAX_OIDC_URI_LENGTH = 2000;
/** Longest client id looked up; generated ones have 26 characters. */
const MAX_CLIENT_ID_LENGTH = 200;

const CLIENT_ID_PREFIX = 'app_';
const CLIENT_SECRET_PREFIX = 'roster_cs_';
/** 32 random bytes: 43 base64url characters. Random enough that a fast hash is the right one. */
const CLIENT_SECRET_BYTES = 32;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The URL, or null when it is not one (URL.parse needs Node 20.18). */
function parseUrl(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

/** SHA-256 of a client secret: what is stored and compared. */
export const hashSecret = (secret: string) => createHash('sha256').update(secret, 'utf8').digest();
const newClientId = () =>
  `${CLIENT_ID_PREFIX}${randomBytes(16).toString('base64url').slice(0, 22)}`;
export const newClientSecret = () =>
  `${CLIENT_SECRET_PREFIX}${randomBytes(CLIENT_SECRET_BYTES).toString('base64url')}`;

/**
 * Whether an app URI uses plain http on a host other than the local machine. Accepted (test and
 * development setups run apps on http host names), but production apps are expected on https:
 * a code or a logout token sent over http can be read on the way.
 */
export function isInsecureAppUri(uri: string): boolean {
  const url = parseUrl(uri);
  return (
    url !== null &&
    url.protocol === 'http:' &&
    !LOOPBACK_HOSTS.has(url.hostname) &&
    !url.hostname.endsWith('.localhost')
  );
}

/** Checks one URI an app registers: absolute http(s), no fragment, no credentials, bounded. */
function checkAppUri(uri: unknown, field: string): string {
  if (typeof uri !== 'string' || uri.length === 0)
    throw invalid(`${field} must be a URL`, { field });
  if (uri.length > MAX_OIDC_URI_LENGTH)
    throw invalid(`${field} is longer than ${MAX_OIDC_URI_LENGTH} characters`, { field });
  const url = isStorableText(uri) ? parseUrl(uri) : null;
  if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:'))
    throw invalid(`${field} must be an absolute http or https URL`, { field });
  // Redirection endpoints and the back-channel logout URI must not have a fragment
  // (RFC 6749 §3.1.2; Back-Channel Logout 1.0 §2.2).
  if (url.hash !== '' || uri.includes('#'))
    throw invalid(`${field} must not contain a fragment (#…)`, { field });
  if (url.username !== '' || url.password !== '')
    throw invalid(`${field} must not contain a user name or password`, { field });
  return uri;
}

/** Checks a list of URIs; duplicates are dropped (the first stays), the order is kept. */
function checkUriList(uris: unknown, field: string, min: number): string[] {
  if (!Array.isArray(uris)) throw invalid(`${field} must be a list of URLs`, { field });
  const unique = [...new Set(uris.map((uri, index) => checkAppUri(uri, `${field}[${index}]`)))];
  if (unique.length < min) throw invalid(`${field} needs at least ${min} URL`, { field });
  if (unique.length > MAX_OIDC_REDIRECT_URIS)
    throw invalid(`${field} has more than ${MAX_OIDC_REDIRECT_URIS} URLs`, { field });
  return unique;
}

/** Checks an app's (or SCIM client's) name: not blank, bounded, storable. */
export function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.trim().length === 0)
    throw invalid('name must not be empty', { field: 'name' });
  if (name.length > MAX_OIDC_APP_NAME_LENGTH)
    throw invalid(`name is longer than ${MAX_OIDC_APP_NAME_LENGTH} characters`, { field: 'name' });
  if (!isStorableText(name))
    throw invalid('name contains a character that cannot be stored', { field: 'name' });
  return name;
}

function checkBackchannelLogoutUri(uri: unknown): string | null {
  return uri === null ? null : checkAppUri(uri, 'backchannelLogoutUri');
}

function toOidcApp(row: Selectable<OidcAppTable>): OidcApp {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    clientId: row.client_id,
    kind: row.kind,
    name: row.name,
    redirectUris: row.redirect_uris,
    postLogoutRedirectUris: row.post_logout_redirect_uris,
    isPublic: row.is_public,
    backchannelLogoutUri: row.backchannel_logout_uri,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    secretRotatedAt: row.secret_rotated_at,
    tokenLifetimeMinutes: row.token_lifetime_minutes,
  };
}

/** What an audit event says about an app: never its secret. */
const auditView = (app: OidcApp) => ({
  clientId: app.clientId,
  kind: app.kind,
  name: app.name,
  redirectUris: app.redirectUris,
  postLogoutRedirectUris: app.postLogoutRedirectUris,
  isPublic: app.isPublic,
  backchannelLogoutUri: app.backchannelLogoutUri,
  ...(app.tokenLifetimeMinutes === null ? {} : { tokenLifetimeMinutes: app.tokenLifetimeMinutes }),
});

/** A tenant that does not exist is a `NotFound`, not a foreign key error. */
function missingTenant(error: unknown): unknown {
  return sqlState(error) === '23503' ? notFound('the tenant does not exist') : error;
}

/**
 * Registers an app in a tenant. A confidential app gets a secret, returned here only (only its
 * SHA-256 is stored); a public app gets none. Bad input is `Invalid` naming the field.
 *
 * @example
 * const { app, clientSecret } = await addOidcApp(db, tenant.id,
 *   { name: 'Wiki', redirectUris: ['https://wiki.example.com/callback'] }, ctx);
 */
export async function addOidcApp(
  db: Db,
  tenantId: string,
  input: OidcAppInput,
  context: ChangeContext,
  clock: Clock = systemClock,
): Promise<{ app: OidcApp; clientSecret: string | null }> {
  const name = checkName(input.name);
  const redirectUris = checkUriList(input.redirectUris, 'redirectUris', 1);
  const postLogoutRedirectUris = checkUriList(
    input.postLogoutRedirectUris ?? [],
    'postLogoutRedirectUris',
    0,
  );
  const backchannelLogoutUri = checkBackchannelLogoutUri(input.backchannelLogoutUri ?? null);
  const isPublic = input.isPublic ?? false;
  if (typeof isPublic !== 'boolean')
    throw invalid('isPublic must be true or false', { field: 'isPublic' });
  return insertOidcApp(
    db,
    tenantId,
    { kind: 'app', name, redirectUris, postLogoutRedirectUris, isPublic, backchannelLogoutUri },
    context,
    clock,
  );
}

/** The checked fields of a new app row, of either kind. */
export interface NewOidcApp {
  readonly kind: OidcAppKind;
  readonly name: string;
  readonly redirectUris: string[];
  readonly postLogoutRedirectUris: string[];
  readonly isPublic: boolean;
  readonly backchannelLogoutUri: string | null;
  readonly tokenLifetimeMinutes?: number;
}

/**
 * Inserts an app whose fields are already checked, with a fresh client id and (unless public) a
 * fresh secret, and audits it. Shared by the kinds' own add functions.
 */
export async function insertOidcApp(
  db: Db,
  tenantId: string,
  fields: NewOidcApp,
  context: ChangeContext,
  clock: Clock,
): Promise<{ app: OidcApp; clientSecret: string | null }> {
  const clientSecret = fields.isPublic ? null : newClientSecret();
  const now = clock.now();
  try {
    return await inTransaction(db, async (tx) => {
      const row = await tx
        .insertInto('oidc_apps')
        .values({
          tenant_id: tenantId,
          client_id: newClientId(),
          kind: fields.kind,
          name: fields.name,
          redirect_uris: JSON.stringify(fields.redirectUris),
          post_logout_redirect_uris: JSON.stringify(fields.postLogoutRedirectUris),
          is_public: fields.isPublic,
          backchannel_logout_uri: fields.backchannelLogoutUri,
          secret_hash: clientSecret === null ? null : hashSecret(clientSecret),
          secret_rotated_at: clientSecret === null ? null : now,
          token_lifetime_minutes: fields.tokenLifetimeMinutes ?? null,
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const app = toOidcApp(row);
      await recordAudit(tx, tenantId, context, {
        action: 'oidc_app.created',
        target: { type: 'oidc_app', id: app.id },
        changes: auditView(app),
      });
      return { app, clientSecret };
    });
  } catch (error) {
    throw missingTenant(error);
  }
}

/** The tenant's apps (or SCIM clients, with `kind` 'scim'), oldest first. */
export async function listOidcApps(
  db: Db,
  tenantId: string,
  kind: OidcAppKind = 'app',
): Promise<OidcApp[]> {
  const rows = await db
    .selectFrom('oidc_apps')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('kind', '=', kind)
    .orderBy('created_at')
    .orderBy('client_id')
    .execute();
  return rows.map(toOidcApp);
}

/** Whether a presented client id could name a row (anything else is simply not found). */
const isLookupableClientId = (clientId: string) =>
  clientId.length > 0 && clientId.length <= MAX_CLIENT_ID_LENGTH && isStorableText(clientId);

async function findAppRow(db: Db | Tx, tenantId: string, clientId: string, lock = false) {
  if (!isLookupableClientId(clientId)) return undefined;
  const query = db
    .selectFrom('oidc_apps')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('client_id', '=', clientId);
  return (lock ? query.forUpdate() : query).executeTakeFirst();
}

/** An app of the tenant by client id; undefined when the tenant has none by that id. */
export async function findOidcApp(
  db: Db | Tx,
  tenantId: string,
  clientId: string,
): Promise<OidcApp | undefined> {
  const row = await findAppRow(db, tenantId, clientId);
  return row && toOidcApp(row);
}

const appNotFound = (clientId: string, kind?: OidcAppKind) =>
  notFound(
    `${kind === 'scim' ? 'SCIM client' : 'app'} "${clientId.slice(0, 100)}" does not exist in this tenant`,
  );

/** Like {@link findOidcApp}, but a missing app, or one of another kind, is a `NotFound` error. */
export async function getOidcApp(
  db: Db | Tx,
  tenantId: string,
  clientId: string,
  kind: OidcAppKind = 'app',
): Promise<OidcApp> {
  const app = await findOidcApp(db, tenantId, clientId);
  if (app?.kind !== kind) throw appNotFound(clientId, kind);
  return app;
}

/** Locks the app's row; a missing one, or one of another kind, is `NotFound`. */
async function lockApp(tx: Tx, tenantId: string, clientId: string, kind: OidcAppKind) {
  const row = await findAppRow(tx, tenantId, clientId, true);
  if (row?.kind !== kind) throw appNotFound(clientId, kind);
  return row;
}

/**
 * Changes an app's name or URIs (each list replaces the old one whole). Its client id, secret
 * and whether it is public stay.
 */
export async function updateOidcApp(
  db: Db,
  tenantId: string,
  clientId: string,
  changes: OidcAppChange,
  context: ChangeContext,
  clock: Clock = systemClock,
): Promise<OidcApp> {
  const name = changes.name === undefined ? undefined : checkName(changes.name);
  const redirectUris =
    changes.redirectUris === undefined
      ? undefined
      : checkUriList(changes.redirectUris, 'redirectUris', 1);
  const postLogoutRedirectUris =
    changes.postLogoutRedirectUris === undefined
      ? undefined
      : checkUriList(changes.postLogoutRedirectUris, 'postLogoutRedirectUris', 0);
  const backchannelLogoutUri =
    changes.backchannelLogoutUri === undefined
      ? undefined
      : checkBackchannelLogoutUri(changes.backchannelLogoutUri);
  return inTransaction(db, async (tx) => {
    // Only apps have the URIs changed here; a SCIM client is not found as one.
    const before = toOidcApp(await lockApp(tx, tenantId, clientId, 'app'));
    const row = await tx
      .updateTable('oidc_apps')
      .set({
        ...(name !== undefined ? { name } : {}),
        ...(redirectUris ? { redirect_uris: JSON.stringify(redirectUris) } : {}),
        ...(postLogoutRedirectUris
          ? { post_logout_redirect_uris: JSON.stringify(postLogoutRedirectUris) }
          : {}),
        ...(backchannelLogoutUri !== undefined
          ? { backchannel_logout_uri: backchannelLogoutUri }
          : {}),
        updated_at: clock.now(),
      })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', before.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    const app = toOidcApp(row);
    await recordAudit(tx, tenantId, context, {
      action: 'oidc_app.updated',
      target: { type: 'oidc_app', id: app.id },
      changes: { before: auditView(before), after: auditView(app) },
    });
    return app;
  });
}

/** Removes an app (or a SCIM client, with `kind` 'scim'): its secret stops working at once. */
export async function removeOidcApp(
  db: Db,
  tenantId: string,
  clientId: string,
  context: ChangeContext,
  kind: OidcAppKind = 'app',
): Promise<OidcApp> {
  return inTransaction(db, async (tx) => {
    const app = toOidcApp(await lockApp(tx, tenantId, clientId, kind));
    await tx
      .deleteFrom('oidc_apps')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', app.id)
      .execute();
    await recordAudit(tx, tenantId, context, {
      action: 'oidc_app.removed',
      target: { type: 'oidc_app', id: app.id },
      changes: auditView(app),
    });
    return app;
  });
}

/**
 * Gives a confidential app (or a SCIM client, with `kind` 'scim') a new secret; the old one stops
 * working at once. A public app has no secret to rotate (`Invalid`).
 */
export async function rotateOidcAppSecret(
  db: Db,
  tenantId: string,
  clientId: string,
  context: ChangeContext,
  clock: Clock = systemClock,
  kind: OidcAppKind = 'app',
): Promise<{ app: OidcApp; clientSecret: string }> {
  const clientSecret = newClientSecret();
  return inTransaction(db, async (tx) => {
    const before = await lockApp(tx, tenantId, clientId, kind);
    if (before.is_public)
      throw invalid(`app "${clientId}" is public: it has no secret to rotate`, {
        field: 'clientId',
      });
    const now = clock.now();
    const row = await tx
      .updateTable('oidc_apps')
      .set({ secret_hash: hashSecret(clientSecret), secret_rotated_at: now, updated_at: now })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', before.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    const app = toOidcApp(row);
    await recordAudit(tx, tenantId, context, {
      action: 'oidc_app.secret_rotated',
      target: { type: 'oidc_app', id: app.id },
      changes: { clientId: app.clientId },
    });
    return { app, clientSecret };
  });
}

/**
 * Whether `presented` is the secret of the tenant's confidential app `clientId`. An unknown
 * client, a public one and a wrong secret all cost one lookup and one constant-time comparison.
 */
export async function verifyOidcAppSecret(
  db: Db,
  tenantId: string,
  clientId: string,
  presented: string,
): Promise<boolean> {
  const row = await findAppRow(db, tenantId, clientId);
  const presentedHash = hashSecret(presented);
  const stored = row?.secret_hash ?? Buffer.alloc(presentedHash.length);
  const matches = timingSafeEqual(stored, presentedHash);
  return matches && row?.secret_hash !== undefined && row.secret_hash !== null;
}
