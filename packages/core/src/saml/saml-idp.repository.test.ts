import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../clock.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import {
  createSamlIdp,
  getSamlIdp,
  listSamlIdps,
  removeSamlIdp,
  updateSamlIdp,
} from './saml-idp.repository.js';
import { IDP_PRESETS } from './saml-idp.js';
import { recordAssertionId } from './saml-state.js';

const clock = fixedClock(new Date());
const operator = { actor: { type: 'operator' as const, id: 't' } };
let database: TestDatabase;
let tenantId: string;
let otherTenantId: string;
const certs: string[] = [];

const xml = (entityId: string, pems: string[]) =>
  `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${entityId}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${pems
    .map(
      (pem) =>
        `<md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '')}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
    )
    .join(
      '',
    )}<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://login.example/${encodeURIComponent(entityId)}"/></md:IDPSSODescriptor></md:EntityDescriptor>`;

beforeAll(async () => {
  database = await createTestDatabase();
  tenantId = (await createTenant(database.db, 'idps', operator)).id;
  otherTenantId = (await createTenant(database.db, 'other', operator)).id;
  for (let i = 0; i < 2; i++)
    certs.push(
      (
        await generate([{ name: 'commonName', value: `idp-${i}` }], {
          keySize: 2048,
          notAfterDate: new Date(Date.now() + 86_400_000),
        })
      ).cert,
    );
});
afterAll(() => database.close());

const counts = async () =>
  Number(
    (
      await database.db
        .selectFrom('saml_idps')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('SAML IdPs of a tenant', () => {
  it('creates from metadata with a preset, and lists and finds by name or id within the tenant only', async () => {
    const idp = await createSamlIdp(
      database.db,
      tenantId,
      { xml: xml('https://sts.windows.net/t/', [certs[0] ?? '']) },
      { preset: 'entra', attributeMap: { userName: 'upn' } },
      operator,
      clock,
    );
    expect(idp.name).toBe('entra');
    expect(idp.wantResponseSigned).toBe(false);
    expect(idp.attributeMap).toEqual({ ...IDP_PRESETS.entra.attributeMap, userName: 'upn' });
    expect(idp.groupsAttribute).toBe(IDP_PRESETS.entra.groupsAttribute);
    expect(idp.allowIdpInitiated).toBe(false);
    expect((await getSamlIdp(database.db, tenantId, 'entra')).id).toBe(idp.id);
    expect((await getSamlIdp(database.db, tenantId, idp.id)).name).toBe('entra');
    await expect(getSamlIdp(database.db, otherTenantId, idp.id)).rejects.toThrow(/does not exist/);
    expect((await listSamlIdps(database.db, tenantId)).map((i) => i.name)).toEqual(['entra']);
  });

  it('refuses bad metadata, bad settings and duplicates, storing nothing', async () => {
    const before = await counts();
    await expect(
      createSamlIdp(database.db, tenantId, { xml: '<nope/>' }, {}, operator, clock),
    ).rejects.toThrow(/IdP metadata/);
    await expect(
      createSamlIdp(
        database.db,
        tenantId,
        { xml: xml('https://x.example/', [certs[0] ?? '']) },
        { attributeMap: { shoeSize: 'x' } as never },
        operator,
        clock,
      ),
    ).rejects.toThrow(/unknown attribute-map field "shoeSize"/);
    await expect(
      createSamlIdp(
        database.db,
        tenantId,
        { xml: xml('https://sts.windows.net/t/', [certs[0] ?? '']) },
        { name: 'again' },
        operator,
        clock,
      ),
    ).rejects.toThrow(/entityID .* already configured/);
    await expect(
      createSamlIdp(
        database.db,
        tenantId,
        { xml: xml('https://y.example/', [certs[0] ?? '']) },
        { name: 'entra' },
        operator,
        clock,
      ),
    ).rejects.toThrow(/named "entra" already exists/);
    expect(await counts()).toBe(before);
  });

  it('rotates certificates from fresh metadata and changes settings, versioned and audited', async () => {
    const updated = await updateSamlIdp(
      database.db,
      tenantId,
      'entra',
      {
        metadata: { xml: xml('https://sts.windows.net/t/', [certs[0] ?? '', certs[1] ?? '']) },
        allowIdpInitiated: true,
        jitPolicy: 'deny',
      },
      operator,
      clock,
    );
    expect(updated.signingCertificates).toHaveLength(2);
    expect(updated.allowIdpInitiated).toBe(true);
    expect(updated.jitPolicy).toBe('deny');
    expect(updated.version).toBe(2);
    const audit = await database.db
      .selectFrom('audit_events')
      .select('action')
      .where('tenant_id', '=', tenantId)
      .where('target_type', '=', 'saml_idp')
      .execute();
    expect(audit.map((a) => a.action)).toEqual(['idp.created', 'idp.updated']);
  });

  it('removes an IdP with its links and sessions', async () => {
    const removed = await removeSamlIdp(database.db, tenantId, 'entra', operator);
    expect(removed.idp.name).toBe('entra');
    expect(await listSamlIdps(database.db, tenantId)).toEqual([]);
    await expect(removeSamlIdp(database.db, tenantId, 'entra', operator)).rejects.toThrow(
      /does not exist/,
    );
  });

  it('records an assertion id once: the second use is a replay', async () => {
    const idp = await createSamlIdp(
      database.db,
      tenantId,
      { xml: xml('https://replay.example/', [certs[0] ?? '']) },
      {},
      operator,
      clock,
    );
    const until = new Date(Date.now() + 60_000);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => recordAssertionId(database.db, idp.id, '_a1', until)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});
