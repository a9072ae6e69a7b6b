// Storing a tenant's IdPs: create from metadata, list, show, update (certificate rotation
// included) and remove. Every query names the tenant.
import type { Selectable } from 'kysely';
import { recordAudit } from '../audit/audit.repository.js';
import type { Clock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import type { SamlIdpTable } from '../db/database.js';
import { inTransaction, type Db, type Tx } from '../db/transaction.js';
import {
  conflict,
  notFound,
  PG_UNIQUE_VIOLATION,
  sqlState,
  violatedConstraint,
} from '../errors.js';
import { isUuid } from '../ids.js';
import { removeLinksOfConnection } from '../links/link.repository.js';
import { endConnectionSessions } from '../sessions/session.js';
import { fetchIdpMetadata, parseIdpMetadata, type IdpMetadata } from './idp-metadata.js';
import {
  assertValidIdpName,
  checkAttributeMap,
  checkAttributeName,
  defaultIdpName,
  IDP_PRESETS,
  type IdpMetadataSource,
  type SamlIdp,
  type SamlIdpSettings,
} from './saml-idp.js';

type SamlIdpRow = Selectable<SamlIdpTable>;

function toSamlIdp(row: SamlIdpRow): SamlIdp {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    entityId: row.entity_id,
    ssoUrl: row.sso_url,
    sloUrl: row.slo_url,
    signingCertificates: row.signing_certificates,
    wantResponseSigned: row.want_response_signed,
    jitPolicy: row.jit_policy,
    matchBy: row.match_by,
    attributeMap: row.attribute_map,
    groupsAttribute: row.groups_attribute,
    allowIdpInitiated: row.allow_idp_initiated,
    metadataUrl: row.metadata_url,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The metadata document and what it says, from the XML given or fetched from its URL. */
async function readMetadata(
  source: IdpMetadataSource,
  clock: Clock,
): Promise<{ xml: string; url: string | null; metadata: IdpMetadata }> {
  if ('url' in source) {
    const fetched = await fetchIdpMetadata(source.url, {
      policy: source.policy,
      now: clock.now(),
    });
    return { ...fetched, url: source.url };
  }
  return { xml: source.xml, url: null, metadata: parseIdpMetadata(source.xml, clock.now()) };
}

function checkSettings(settings: SamlIdpSettings): void {
  if (settings.name !== undefined) assertValidIdpName(settings.name);
  if (settings.attributeMap) checkAttributeMap(settings.attributeMap);
  if (settings.groupsAttribute !== undefined && settings.groupsAttribute !== null)
    checkAttributeName(settings.groupsAttribute, 'groupsAttribute');
}

function uniqueViolation(error: unknown, name: string, entityId: string): unknown {
  if (sqlState(error) !== PG_UNIQUE_VIOLATION) return error;
  return violatedConstraint(error) === 'saml_idps_tenant_entity_id'
    ? conflict(`an IdP with entityID "${entityId}" is already configured in this tenant`, {
        entityId,
      })
    : conflict(`an IdP named "${name}" already exists in this tenant`, { name });
}

/** What an audit event says about an IdP (never the certificates themselves, only how many). */
const auditView = (idp: SamlIdp) => ({
  name: idp.name,
  entityId: idp.entityId,
  ssoUrl: idp.ssoUrl,
  sloUrl: idp.sloUrl,
  signingCertificates: idp.signingCertificates.length,
  wantResponseSigned: idp.wantResponseSigned,
  jitPolicy: idp.jitPolicy,
  matchBy: idp.matchBy,
  attributeMap: idp.attributeMap,
  groupsAttribute: idp.groupsAttribute,
  allowIdpInitiated: idp.allowIdpInitiated,
});

/**
 * Adds an IdP to a tenant from its metadata. Bad metadata or settings are `Invalid` (nothing
 * stored); a name or entityID already used in the tenant is a `Conflict`.
 *
 * @example
 * const idp = await createSamlIdp(db, tenant.id, { xml }, { preset: 'entra' }, ctx, clock);
 */
export async function createSamlIdp(
  db: Db,
  tenantId: string,
  source: IdpMetadataSource,
  settings: SamlIdpSettings,
  context: ChangeContext,
  clock: Clock,
): Promise<SamlIdp> {
  checkSettings(settings);
  const { xml, url, metadata } = await readMetadata(source, clock);
  const preset = settings.preset ? IDP_PRESETS[settings.preset] : undefined;
  const name = settings.name ?? defaultIdpName(metadata.entityId, settings.preset);
  const now = clock.now();
  try {
    return await inTransaction(db, async (tx) => {
      const row = await tx
        .insertInto('saml_idps')
        .values({
          tenant_id: tenantId,
          name,
          entity_id: metadata.entityId,
          sso_url: metadata.ssoUrl,
          slo_url: metadata.sloUrl,
          signing_certificates: [...metadata.signingCertificates],
          want_response_signed: settings.wantResponseSigned ?? preset?.wantResponseSigned ?? true,
          jit_policy: settings.jitPolicy ?? 'create',
          match_by: settings.matchBy ?? 'username',
          attribute_map: { ...preset?.attributeMap, ...settings.attributeMap },
          groups_attribute:
            settings.groupsAttribute !== undefined
              ? settings.groupsAttribute
              : (preset?.groupsAttribute ?? null),
          allow_idp_initiated: settings.allowIdpInitiated ?? false,
          metadata_xml: xml,
          metadata_url: url,
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const idp = toSamlIdp(row);
      await recordAudit(tx, tenantId, context, {
        action: 'idp.created',
        target: { type: 'saml_idp', id: idp.id },
        changes: auditView(idp),
      });
      return idp;
    });
  } catch (error) {
    throw uniqueViolation(error, name, metadata.entityId);
  }
}

export async function listSamlIdps(db: Db, tenantId: string): Promise<SamlIdp[]> {
  const rows = await db
    .selectFrom('saml_idps')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .orderBy('name')
    .execute();
  return rows.map(toSamlIdp);
}

/** An IdP of the tenant by id or by name; undefined when there is none. */
export async function findSamlIdp(
  db: Db | Tx,
  tenantId: string,
  idpRef: string,
): Promise<SamlIdp | undefined> {
  const row = await db
    .selectFrom('saml_idps')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where(isUuid(idpRef) ? 'id' : 'name', '=', idpRef)
    .executeTakeFirst();
  return row && toSamlIdp(row);
}

/** Like {@link findSamlIdp}, but a missing IdP is a `NotFound` error. */
export async function getSamlIdp(db: Db | Tx, tenantId: string, idpRef: string): Promise<SamlIdp> {
  const idp = await findSamlIdp(db, tenantId, idpRef);
  if (!idp)
    throw notFound(`identity provider "${idpRef.slice(0, 100)}" does not exist in this tenant`);
  return idp;
}

/** A change to an IdP; `metadata` re-reads entityID, URLs and signing certificates. */
export interface SamlIdpChange extends SamlIdpSettings {
  /** Re-read; with `preset`, the preset's map and groups attribute are applied again. */
  readonly metadata?: IdpMetadataSource;
}

/**
 * Changes an IdP. New metadata replaces its certificates at once (rotation: publish the new
 * certificate in the IdP's metadata beside the old one, update, then drop the old one).
 */
export async function updateSamlIdp(
  db: Db,
  tenantId: string,
  idpRef: string,
  change: SamlIdpChange,
  context: ChangeContext,
  clock: Clock,
): Promise<SamlIdp> {
  checkSettings(change);
  const read = change.metadata ? await readMetadata(change.metadata, clock) : undefined;
  const preset = change.preset ? IDP_PRESETS[change.preset] : undefined;
  let name = change.name ?? idpRef;
  let entityId = read?.metadata.entityId ?? '';
  try {
    return await inTransaction(db, async (tx) => {
      const before = await getSamlIdp(tx, tenantId, idpRef);
      name = change.name ?? before.name;
      entityId = read?.metadata.entityId ?? before.entityId;
      const attributeMap =
        preset || change.attributeMap
          ? { ...(preset ? preset.attributeMap : before.attributeMap), ...change.attributeMap }
          : undefined;
      const groupsAttribute =
        change.groupsAttribute !== undefined ? change.groupsAttribute : preset?.groupsAttribute;
      const row = await tx
        .updateTable('saml_idps')
        .set((eb) => ({
          ...(change.name !== undefined ? { name: change.name } : {}),
          ...(read
            ? {
                entity_id: read.metadata.entityId,
                sso_url: read.metadata.ssoUrl,
                slo_url: read.metadata.sloUrl,
                signing_certificates: [...read.metadata.signingCertificates],
                metadata_xml: read.xml,
                metadata_url: read.url,
              }
            : {}),
          ...(change.jitPolicy !== undefined ? { jit_policy: change.jitPolicy } : {}),
          ...(change.matchBy !== undefined ? { match_by: change.matchBy } : {}),
          ...(attributeMap ? { attribute_map: attributeMap } : {}),
          ...(groupsAttribute !== undefined ? { groups_attribute: groupsAttribute } : {}),
          ...(change.allowIdpInitiated !== undefined
            ? { allow_idp_initiated: change.allowIdpInitiated }
            : {}),
          ...(change.wantResponseSigned !== undefined || preset
            ? { want_response_signed: change.wantResponseSigned ?? preset?.wantResponseSigned }
            : {}),
          version: eb('version', '+', 1),
          updated_at: clock.now(),
        }))
        .where('tenant_id', '=', tenantId)
        .where('id', '=', before.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      const idp = toSamlIdp(row);
      await recordAudit(tx, tenantId, context, {
        action: 'idp.updated',
        target: { type: 'saml_idp', id: idp.id },
        changes: { before: auditView(before), after: auditView(idp) },
      });
      return idp;
    });
  } catch (error) {
    throw uniqueViolation(error, name, entityId);
  }
}

/**
 * Removes an IdP: its NameID links go with it and its people's sessions end now. The users
 * stay (they may come in through another IdP or SCIM).
 */
export async function removeSamlIdp(
  db: Db,
  tenantId: string,
  idpRef: string,
  context: ChangeContext,
): Promise<{ idp: SamlIdp; sessionsEnded: number; linksRemoved: number }> {
  return inTransaction(db, async (tx) => {
    const idp = await getSamlIdp(tx, tenantId, idpRef);
    const sessionsEnded = await endConnectionSessions(tx, tenantId, idp.id);
    const linksRemoved = await removeLinksOfConnection(tx, tenantId, idp.id);
    await tx
      .deleteFrom('saml_idps')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', idp.id)
      .execute();
    await recordAudit(tx, tenantId, context, {
      action: 'idp.removed',
      target: { type: 'saml_idp', id: idp.id },
      changes: { ...auditView(idp), sessionsEnded, linksRemoved },
    });
    return { idp, sessionsEnded, linksRemoved };
  });
}
