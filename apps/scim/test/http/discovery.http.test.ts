// the per-tenant endpoint and discovery that tells the truth (RFC 7644 §4).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ENTERPRISE_SCHEMA,
  expectScimError,
  GROUP_SCHEMA,
  LIST_SCHEMA,
  SERVER_URL,
  startScim,
  USER_SCHEMA,
  idsOf,
  resourcesOf,
  type Body,
  type ScimHarness,
  type TenantClient,
} from './setup.js';

/** A schema's attribute definitions (RFC 7643 §7). */
const attributesOf = (schema: Body) =>
  (schema as { attributes: { name: string; type: string }[] }).attributes;

let harness: ScimHarness;
let acme: TenantClient;
let globex: TenantClient;

beforeAll(async () => {
  harness = await startScim();
  acme = await harness.tenant('acme');
  globex = await harness.tenant('globex');
});
afterAll(() => harness.close());

describe('ServiceProviderConfig (RFC 7643 §5)', () => {
  it('states what the server does: patch, bulk limits, filter, sort, etag, no password change', async () => {
    const res = await acme.get('/ServiceProviderConfig');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    const spc = res.body;
    expect(spc.schemas).toEqual(['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig']);
    expect(spc.patch).toEqual({ supported: true });
    expect(spc.bulk).toEqual({ supported: true, maxOperations: 1000, maxPayloadSize: 1_048_576 });
    expect(spc.filter.supported).toBe(true);
    expect(spc.filter.maxResults).toBeGreaterThan(0);
    expect(spc.sort).toEqual({ supported: true });
    expect(spc.etag).toEqual({ supported: true });
    expect(spc.changePassword).toEqual({ supported: false });
    expect(spc.authenticationSchemes).toEqual([
      expect.objectContaining({
        type: 'oauthbearertoken',
        name: expect.any(String),
        description: expect.any(String),
      }),
    ]);
    expect(spc.meta).toEqual({
      resourceType: 'ServiceProviderConfig',
      location: `${SERVER_URL}/scim/v2/acme/ServiceProviderConfig`,
    });
  });

  it('advertises RFC 9865 pagination: cursor and index, page sizes consistent with filter.maxResults', async () => {
    const spc = (await acme.get('/ServiceProviderConfig')).body;
    expect(spc.pagination).toEqual({
      cursor: true,
      index: true,
      defaultPaginationMethod: 'index',
      defaultPageSize: expect.any(Number),
      maxPageSize: spc.filter.maxResults,
      cursorTimeout: expect.any(Number),
    });
    expect(spc.pagination.defaultPageSize).toBeGreaterThan(0);
    expect(spc.pagination.defaultPageSize).toBeLessThanOrEqual(spc.filter.maxResults);
    expect(spc.pagination.cursorTimeout).toBeGreaterThan(0);
  });

  it('advertises RFC 9967 security events: the event URIs webhooks send, no asynchronous requests', async () => {
    const spc = (await acme.get('/ServiceProviderConfig')).body;
    expect(spc.securityEvents).toEqual({
      asyncRequest: 'none',
      eventUris: expect.arrayContaining([
        'urn:ietf:params:scim:event:prov:create:notice',
        'urn:ietf:params:scim:event:prov:put:notice',
        'urn:ietf:params:scim:event:prov:patch:full',
        'urn:ietf:params:scim:event:prov:delete',
        'urn:ietf:params:scim:event:prov:activate',
        'urn:ietf:params:scim:event:prov:deactivate',
      ]),
    });
    // Only what Roster issues: no feed events, no full create or put, no async completions.
    expect(spc.securityEvents.eventUris).toHaveLength(6);
  });

  it('places each tenant under its own base URL', async () => {
    const res = await globex.get('/ServiceProviderConfig');
    expect(res.status).toBe(200);
    expect(res.body.meta.location).toBe(`${SERVER_URL}/scim/v2/globex/ServiceProviderConfig`);
  });
});

describe('Schemas (RFC 7643 §7)', () => {
  it('lists the User, enterprise User and Group schemas with absolute locations', async () => {
    const res = await acme.get('/Schemas');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    const list = res.body;
    expect(list.schemas).toEqual([LIST_SCHEMA]);
    expect(list.totalResults).toBe(list.Resources.length);
    expect(list.itemsPerPage).toBe(list.Resources.length);
    const ids = idsOf(list);
    expect(ids).toEqual(expect.arrayContaining([USER_SCHEMA, ENTERPRISE_SCHEMA, GROUP_SCHEMA]));
    for (const schema of resourcesOf(list)) {
      expect(schema.meta.resourceType).toBe('Schema');
      expect(schema.meta.location).toBe(`${acme.baseUrl}/Schemas/${schema.id}`);
    }
  });

  it('answers one schema by its URN, attributes included', async () => {
    const res = await acme.get(`/Schemas/${USER_SCHEMA}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(res.body.id).toBe(USER_SCHEMA);
    expect(res.body.meta.location).toBe(`${acme.baseUrl}/Schemas/${USER_SCHEMA}`);
    const attributes = attributesOf(res.body);
    const userName = attributes.find((a) => a.name === 'userName');
    expect(userName).toMatchObject({ required: true, uniqueness: 'server', caseExact: false });
    // The password is writeOnly, never returned (RFC 7643 §4.1.1).
    const password = attributes.find((a) => a.name === 'password');
    expect(password).toMatchObject({ mutability: 'writeOnly', returned: 'never' });
    const groups = attributes.find((a) => a.name === 'groups');
    expect(groups).toMatchObject({ mutability: 'readOnly' });

    const enterprise = await acme.get(`/Schemas/${ENTERPRISE_SCHEMA}`);
    expect(enterprise.status).toBe(200);
    const manager = attributesOf(enterprise.body).find((a) => a.name === 'manager');
    expect(manager?.type).toBe('complex');

    const group = await acme.get(`/Schemas/${GROUP_SCHEMA}`);
    expect(group.status).toBe(200);
    expect(attributesOf(group.body).map((a) => a.name)).toContain('members');
  });

  it('answers an unknown schema URN with a SCIM 404', async () => {
    expectScimError(await acme.get('/Schemas/urn:example:nothing'), 404);
  });
});

describe('ResourceTypes (RFC 7643 §6)', () => {
  it('lists User and Group, whose schemas and extensions are all in /Schemas', async () => {
    const res = await acme.get('/ResourceTypes');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    const types = resourcesOf(res.body);
    expect(res.body.schemas).toEqual([LIST_SCHEMA]);
    expect(res.body.totalResults).toBe(types.length);
    expect(types.map((t) => t.name).sort()).toEqual(['Group', 'User']);
    const schemaIds = idsOf((await acme.get('/Schemas')).body);
    for (const type of types) {
      expect(type.meta.location).toBe(`${acme.baseUrl}/ResourceTypes/${type.id}`);
      expect(schemaIds).toContain(type.schema);
      for (const extension of (type.schemaExtensions ?? []) as { schema: string }[])
        expect(schemaIds).toContain(extension.schema);
    }
  });

  it('answers /ResourceTypes/User with its endpoint, schema and the optional enterprise extension', async () => {
    const res = await acme.get('/ResourceTypes/User');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      schema: USER_SCHEMA,
      schemaExtensions: [{ schema: ENTERPRISE_SCHEMA, required: false }],
    });
    expect(res.body.meta.location).toBe(`${acme.baseUrl}/ResourceTypes/User`);
    const group = await acme.get('/ResourceTypes/Group');
    expect(group.status).toBe(200);
    expect(group.body).toMatchObject({ id: 'Group', endpoint: '/Groups', schema: GROUP_SCHEMA });
    expect(group.body.meta.location).toBe(`${acme.baseUrl}/ResourceTypes/Group`);
  });

  it('answers an unknown resource type with a SCIM 404', async () => {
    expectScimError(await acme.get('/ResourceTypes/Printer'), 404);
  });
});

describe('the per-tenant endpoint (RFC 7644 §3)', () => {
  it('answers an unknown endpoint with a SCIM 404', async () => {
    expectScimError(await acme.get('/Printers'), 404);
    expectScimError(await acme.post('/Printers', { a: 1 }), 404);
  });

  it('keeps each tenant to its own resources', async () => {
    const created = await acme.post('/Users', {
      schemas: [USER_SCHEMA],
      userName: 'only-in-acme@example.com',
    });
    expect(created.status).toBe(201);
    expectScimError(await globex.get(`/Users/${created.body.id}`), 404);
    const list = await globex.get('/Users');
    expect(list.status).toBe(200);
    expect(list.body.totalResults).toBe(0);
  });
});
