// Roster events as SCIM Security Events (RFC 9967): each event becomes one Security Event Token
// (RFC 8417), signed with the tenant's current OpenID Provider key, so a receiver verifies it
// with the JWKS of the tenant's issuer. The events are sent in "notice" mode (RFC 9967 §2.4):
// they name the resource and the attributes that changed, never their values; a receiver reads
// the resource over SCIM when it needs them (co-ordinated provisioning, RFC 9967 Appendix A.2).
// Group membership deltas are the exception: their PATCH is the change itself, and small.
import { importJWK, SignJWT } from 'jose';
import { systemClock, type Clock } from '../clock.js';
import type { Db } from '../db/transaction.js';
import { invalid } from '../errors.js';
import { loadSigningKeys, SIGNING_ALGORITHM } from '../oidc/signing-keys.js';
import { tenantIssuerUrl } from '../urls/url-layouts.js';
import { EVENT_TYPES, type EventType, type RosterEvent } from './event.js';

/** The SCIM event URIs Roster issues (RFC 9967 §2.4, registered in §7.4). */
export const SCIM_EVENT_URIS = {
  createNotice: 'urn:ietf:params:scim:event:prov:create:notice',
  putNotice: 'urn:ietf:params:scim:event:prov:put:notice',
  patchFull: 'urn:ietf:params:scim:event:prov:patch:full',
  delete: 'urn:ietf:params:scim:event:prov:delete',
  activate: 'urn:ietf:params:scim:event:prov:activate',
  deactivate: 'urn:ietf:params:scim:event:prov:deactivate',
} as const;

export type ScimEventUri = (typeof SCIM_EVENT_URIS)[keyof typeof SCIM_EVENT_URIS];

/** The media type of a SET (RFC 8417 §7.2), the body of a push delivery (RFC 8935 §2). */
export const SECEVENT_CONTENT_TYPE = 'application/secevent+jwt';
/** The JWT `typ` header of a SET (RFC 8417 §2.3: explicit typing). */
export const SECEVENT_JWT_TYPE = 'secevent+jwt';

const U = SCIM_EVENT_URIS;

/**
 * The event URIs each Roster event type is sent as. Several URIs in one SET say that they arise
 * from the same state change of one resource (RFC 9967 §2.1). An empty list: the RFC has no URI
 * for it, and the `scim-events` format does not carry that type.
 */
const URIS_OF_TYPE: Readonly<Record<EventType, readonly ScimEventUri[]>> = {
  'user.created': [U.createNotice],
  // A PUT, a PATCH, an adoption or a sign-in refresh: the put notice says only "updated", which
  // is true of each (§2.4.3); the patch notice would claim a SCIM PATCH (§2.4.2).
  'user.updated': [U.putNotice],
  // The state change and the `active` attribute it flips, in one SET (§2.4.6, §2.1).
  'user.deactivated': [U.deactivate, U.putNotice],
  'user.reactivated': [U.activate, U.putNotice],
  // A deprovisioned user is gone from SCIM (404): a delete (§2.4.4).
  'user.deprovisioned': [U.delete],
  // Back under its old id, as a SCIM create would bring it back (§2.4.1: the id is kept).
  'user.restored': [U.createNotice],
  // Gone for good: a receiver that already deleted it on `user.deprovisioned` sees a second
  // delete of a resource it no longer has, which changes nothing.
  'user.purged': [U.delete],
  'group.created': [U.createNotice],
  'group.updated': [U.putNotice],
  'group.deleted': [U.delete],
  // The membership delta as the SCIM PATCH that makes it (§2.4.2, Figure 6).
  'group.members_added': [U.patchFull],
  'group.members_removed': [U.patchFull],
  // A session is not a SCIM resource: RFC 9967 defines nothing for it.
  'session.ended': [],
};

/** The SCIM event URIs a Roster event type is sent as; empty where the RFC has none. */
export function scimEventUrisOf(type: EventType): readonly ScimEventUri[] {
  return URIS_OF_TYPE[type];
}

/**
 * The event types of `types` (every type when absent) that the `scim-events` format carries:
 * those RFC 9967 has a URI for. The webhook worker reads only these for such an endpoint.
 */
export function scimEventTypes(types?: readonly EventType[]): EventType[] {
  return (types ?? EVENT_TYPES).filter((type) => URIS_OF_TYPE[type].length > 0);
}

/** Every event URI Roster can issue (the ServiceProviderConfig's `securityEvents.eventUris`). */
export const ISSUED_SCIM_EVENT_URIS: readonly ScimEventUri[] = Object.values(SCIM_EVENT_URIS);

/** Roster's user fields and the SCIM attribute paths (RFC 7644 §3.5.2 "path") they are. */
const SCIM_PATH_OF_FIELD: Readonly<Record<string, string>> = {
  userName: 'userName',
  externalId: 'externalId',
  displayName: 'displayName',
  givenName: 'name.givenName',
  familyName: 'name.familyName',
  emails: 'emails',
  active: 'active',
  state: 'active',
};

/** What a created resource carries, when the event does not list it (RFC 9967 Figure 5). */
const CREATED_ATTRIBUTES = {
  user: ['id', 'userName', 'externalId', 'displayName', 'name', 'emails', 'active'],
  group: ['id', 'displayName', 'externalId', 'members'],
} as const;
/** What an update may have changed, when the event does not say. */
const UPDATABLE_ATTRIBUTES = {
  user: ['userName', 'externalId', 'displayName', 'name', 'emails', 'active'],
  group: ['displayName', 'externalId'],
} as const;

type ResourceKind = 'user' | 'group';
type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const resourceKindOf = (type: EventType): ResourceKind =>
  type.startsWith('group.') ? 'group' : 'user';

/** The SCIM endpoint of each resource kind (RFC 7644 §3.2). */
const ENDPOINT_OF: Readonly<Record<ResourceKind, string>> = { user: 'Users', group: 'Groups' };

/** The event's resource: `data.user` or `data.group`, which carries at least its id. */
function resourceOf(event: RosterEvent, kind: ResourceKind): Json {
  const resource = event.data[kind];
  return isObject(resource) ? resource : {};
}

/**
 * The subject (RFC 9967 §2.1): the SCIM path of the resource, and its externalId where it has
 * one, in the `scim` format of `sub_id`.
 */
function subjectOf(event: RosterEvent, kind: ResourceKind) {
  const resource = resourceOf(event, kind);
  const id = resource.id;
  if (typeof id !== 'string' || id === '')
    throw invalid(`event ${event.id} names no ${kind}`, { field: 'data' });
  return {
    format: 'scim',
    uri: `/${ENDPOINT_OF[kind]}/${id}`,
    ...(typeof resource.externalId === 'string' ? { externalId: resource.externalId } : {}),
  };
}

/** The SCIM ETag of the resource after the change (RFC 9967 §2.2 `version`, RFC 7644 §3.14). */
function versionOf(event: RosterEvent, kind: ResourceKind): string | undefined {
  const version = resourceOf(event, kind).version ?? event.data.version;
  return typeof version === 'number' ? `W/"${version}"` : undefined;
}

/**
 * The SCIM attributes the event says changed (`data.changed`, keyed by Roster field), or
 * `fallback` when it does not say (events recorded before they carried it).
 */
function changedAttributes(event: RosterEvent, fallback: readonly string[]): string[] {
  const changed = event.data.changed;
  const fields = isObject(changed) ? Object.keys(changed) : [];
  const paths = new Set(
    fields.map((field) => SCIM_PATH_OF_FIELD[field]).filter((path) => path !== undefined),
  );
  return paths.size > 0 ? [...paths] : [...fallback];
}

/** A member of a membership delta (`data.members`: `{ type: 'user' | 'group', id }`). */
interface DeltaMember {
  readonly kind: ResourceKind;
  readonly id: string;
}

function membersOf(event: RosterEvent): DeltaMember[] {
  const members: unknown = event.data.members;
  if (!Array.isArray(members)) return [];
  return (members as unknown[]).flatMap((member): DeltaMember[] =>
    isObject(member) && typeof member.id === 'string'
      ? [{ kind: member.type === 'group' ? 'group' : 'user', id: member.id }]
      : [],
  );
}

/** The SCIM type of a member (RFC 7643 §4.2: "User" or "Group"). */
const MEMBER_TYPE_OF: Readonly<Record<ResourceKind, string>> = { user: 'User', group: 'Group' };

/** The SCIM PATCH request that makes a membership delta (RFC 7644 §3.5.2.1, §3.5.2.3). */
function membershipPatch(event: RosterEvent): Json {
  const members = membersOf(event);
  const operations =
    event.type === 'group.members_added'
      ? [
          {
            op: 'add',
            path: 'members',
            value: members.map(({ kind, id }) => ({
              value: id,
              $ref: `/${ENDPOINT_OF[kind]}/${id}`,
              type: MEMBER_TYPE_OF[kind],
            })),
          },
        ]
      : members.map(({ id }) => ({ op: 'remove', path: `members[value eq "${id}"]` }));
  return { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: operations };
}

/** The payload of one event URI for this event (RFC 9967 §2.2, §2.4). */
function payloadOf(uri: ScimEventUri, event: RosterEvent, kind: ResourceKind): Json {
  const version = versionOf(event, kind);
  const withVersion = (payload: Json): Json => (version ? { ...payload, version } : payload);
  switch (uri) {
    case U.createNotice:
      // A restored user is all there again, whatever its restore itself changed.
      return withVersion({
        attributes:
          event.type === 'user.restored'
            ? [...CREATED_ATTRIBUTES[kind]]
            : ['id', ...changedAttributes(event, CREATED_ATTRIBUTES[kind].slice(1))],
      });
    case U.putNotice:
      return withVersion({
        attributes:
          event.type === 'user.deactivated' || event.type === 'user.reactivated'
            ? ['active']
            : changedAttributes(event, UPDATABLE_ATTRIBUTES[kind]),
      });
    case U.patchFull:
      return withVersion({ data: membershipPatch(event) });
    // No payload attributes (§2.4.4 to §2.4.6).
    case U.delete:
    case U.activate:
    case U.deactivate:
      return {};
  }
}

/** What {@link renderScimSecurityEvent} returns: the body of a SET push (RFC 8935 §2). */
export interface ScimSecurityEventBody {
  readonly contentType: typeof SECEVENT_CONTENT_TYPE;
  /** The signed SET, a compact JWS. */
  readonly body: string;
}

/**
 * One event as a signed SCIM Security Event Token (RFC 9967, RFC 8417): `iss` the tenant's
 * OpenID Provider issuer (whose JWKS verifies it), `aud` the receiver, `jti` and `txn` the event
 * id (the same for every receiver and every retry, so a receiver can drop a duplicate), `iat` the
 * signing time, `toe` when the change happened, `sub_id` the SCIM resource, and `events` the
 * event URIs of {@link scimEventUrisOf}. Signed with the tenant's current key (`kid` in the
 * header, `typ: secevent+jwt`). Throws `Invalid` for a type the RFC has no URI for (the
 * webhook worker never asks: it reads {@link scimEventTypes} only for these endpoints).
 *
 * @example
 * const { body } = await renderScimSecurityEvent(db, tenant.id, event, {
 *   issuer: tenantIssuerUrl(ssoBaseUrl, tenant.slug),
 *   audience: 'https://receiver.example/events',
 * });
 */
export async function renderScimSecurityEvent(
  db: Db,
  tenantId: string,
  event: RosterEvent,
  options: { issuer: string; audience: string; clock?: Clock },
): Promise<{ contentType: typeof SECEVENT_CONTENT_TYPE; body: string }> {
  const uris = scimEventUrisOf(event.type);
  if (uris.length === 0)
    throw invalid(`${event.type} has no SCIM event URI (RFC 9967) and is not sent as one`, {
      field: 'type',
    });
  const kind = resourceKindOf(event.type);
  const clock = options.clock ?? systemClock;
  const [signingKey] = (await loadSigningKeys(db, tenantId, clock)).keys;
  if (!signingKey?.kid) throw new Error('the tenant has no signing key');
  const events = Object.fromEntries(uris.map((uri) => [uri, payloadOf(uri, event, kind)]));
  const body = await new SignJWT({
    // RFC 9967 §2.1: the subject is `sub_id`, never `sub`.
    sub_id: subjectOf(event, kind),
    txn: event.id,
    toe: Math.floor(event.occurredAt.getTime() / 1000),
    events,
  })
    .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: signingKey.kid, typ: SECEVENT_JWT_TYPE })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setIssuedAt(Math.floor(clock.now().getTime() / 1000))
    .setJti(event.id)
    .sign(await importJWK(signingKey, SIGNING_ALGORITHM));
  return { contentType: SECEVENT_CONTENT_TYPE, body };
}

/**
 * The webhook worker's renderer for the `scim-events` format: the issuer is the tenant's OpenID
 * Provider (`<SSO_BASE_URL>/oidc/<slug>`), the audience the endpoint's URL.
 *
 * @param ssoBaseUrl the SSO app's public base URL (SSO_BASE_URL)
 */
export function scimSecurityEventRenderer(
  db: Db,
  ssoBaseUrl: string,
  clock?: Clock,
): (
  event: RosterEvent,
  webhook: { readonly tenantId: string; readonly url: string },
) => Promise<ScimSecurityEventBody> {
  return async (event, webhook) => {
    const tenant = await db
      .selectFrom('tenants')
      .select('slug')
      .where('id', '=', webhook.tenantId)
      .executeTakeFirstOrThrow();
    return renderScimSecurityEvent(db, webhook.tenantId, event, {
      issuer: tenantIssuerUrl(ssoBaseUrl, tenant.slug),
      audience: webhook.url,
      ...(clock ? { clock } : {}),
    });
  };
}
