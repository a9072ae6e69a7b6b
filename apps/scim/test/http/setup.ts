// Shared harness of the HTTP-level tests: the real SCIM app in-process (supertest) on a fresh,
// migrated database (PGlite, or PostgreSQL when DATABASE_URL is set), one tenant and its token.
import { sql } from 'kysely';
import request from 'supertest';
import { expect } from 'vitest';
import {
  createLogger,
  createScimToken,
  createTenant,
  fixedClock,
  type ChangeContext,
  type Db,
  type Tenant,
} from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { createLifecycle } from '@roster/http';
import { createScimApp, type ScimAppDeps } from '../../src/index.js';

export const SERVER_URL = 'https://scim.example.test';
export const SCIM_JSON = 'application/scim+json';
/** Longest a single request may take before the test fails (far below vitest's test timeout). */
export const REQUEST_TIMEOUT_MS = 20_000;

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SEARCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
export const BULK_REQUEST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
export const BULK_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';

export const operator: ChangeContext = { actor: { type: 'operator', id: 'http-test' } };

type Json = Record<string, unknown>;
/** A parsed SCIM response body: untyped JSON, asserted on field by field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Body = any;
/** A resource of a ListResponse (the attributes the tests read by name are typed). */
export interface Resource {
  readonly id: string;
  readonly userName?: string;
  readonly displayName?: string;
  readonly name?: string;
  readonly schema?: string;
  readonly meta: {
    readonly resourceType: string;
    readonly version?: string;
    readonly location: string;
  };
  readonly [attribute: string]: unknown;
}

/** The Resources of a ListResponse ([] when absent, as RFC 7644 §3.4.2 allows for an empty page). */
export const resourcesOf = (body: Body): Resource[] =>
  (body as { Resources?: Resource[] }).Resources ?? [];

/** The ids of a ListResponse's Resources, in order. */
export const idsOf = (body: Body): string[] => resourcesOf(body).map((r) => r.id);

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** One tenant's SCIM endpoint, authenticated, with a JSON body sent as application/scim+json. */
export interface TenantClient {
  readonly tenant: Tenant;
  readonly token: string;
  /** The tenant's SCIM base URL, e.g. https://scim.example.test/scim/v2/acme. */
  readonly baseUrl: string;
  /** An authenticated request to `<tenant endpoint><path>`; the body (if any) as SCIM JSON. */
  call(method: Method, path: string, body?: unknown): request.Test;
  get(path: string): request.Test;
  post(path: string, body: unknown): request.Test;
  put(path: string, body: unknown): request.Test;
  patch(path: string, body: unknown): request.Test;
  delete(path: string): request.Test;
  /** An authenticated request with no body handling of ours (raw headers and bodies). */
  raw(method: Method, path: string): request.Test;
}

export interface ScimHarness {
  readonly database: TestDatabase;
  readonly db: Db;
  readonly app: ReturnType<typeof createScimApp>;
  readonly clock: ReturnType<typeof fixedClock>;
  /** A new tenant with its own SCIM token. */
  tenant(slug: string): Promise<TenantClient>;
  close(): Promise<void>;
}

/** `config`: the request log and rate limit settings (absent: neither, as in production tests). */
export async function startScim(config?: ScimAppDeps['config']): Promise<ScimHarness> {
  const database = await createTestDatabase();
  const clock = fixedClock('2026-06-01T00:00:00Z');
  const app = createScimApp({
    database,
    logger: createLogger({ level: 'silent' }),
    clock,
    lifecycle: createLifecycle(),
    baseUrl: SERVER_URL,
    ...(config ? { config } : {}),
  });
  const db = database.db;
  return {
    database,
    db,
    app,
    clock,
    async tenant(slug) {
      const tenant = await createTenant(db, slug, operator);
      const { token } = await createScimToken(db, slug, { expiresAt: null }, operator, clock);
      const prefix = `/scim/v2/${slug}`;
      // A request that hangs (a stuck connection) fails on its own, naming the request.
      const raw = (method: Method, path: string) => {
        const test = request(app)[method](`${prefix}${path}`);
        return test.set('Authorization', `Bearer ${token}`).timeout(REQUEST_TIMEOUT_MS);
      };
      const call = (method: Method, path: string, body?: unknown) => {
        const test = raw(method, path);
        return body === undefined
          ? test
          : test.set('Content-Type', SCIM_JSON).send(JSON.stringify(body));
      };
      return {
        tenant,
        token,
        baseUrl: `${SERVER_URL}${prefix}`,
        call,
        raw,
        get: (path) => call('get', path),
        post: (path, body) => call('post', path, body),
        put: (path, body) => call('put', path, body),
        patch: (path, body) => call('patch', path, body),
        delete: (path) => call('delete', path),
      };
    },
    close: () => database.close(),
  };
}

/** A PatchOp message (RFC 7644 §3.5.2). */
export const patchOp = (...Operations: Json[]): Json => ({
  schemas: [PATCH_SCHEMA],
  Operations,
});

/** A SearchRequest message (RFC 7644 §3.4.3). */
export const searchRequest = (params: Json = {}): Json => ({ schemas: [SEARCH_SCHEMA], ...params });

/** A minimal core User body. */
export const userBody = (userName: string, extra: Json = {}): Json => ({
  schemas: [USER_SCHEMA],
  userName,
  ...extra,
});

/** A minimal Group body with users (or groups) as members. */
export const groupBody = (
  displayName: string,
  memberIds: string[] = [],
  extra: Json = {},
): Json => ({
  schemas: [GROUP_SCHEMA],
  displayName,
  members: memberIds.map((value) => ({ value })),
  ...extra,
});

/** Creates a user over SCIM and returns its representation (asserting the 201). */
export async function createUser(client: TenantClient, userName: string, extra: Json = {}) {
  const res = await client.post('/Users', userBody(userName, extra));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as Json & { id: string; meta: { version: string } };
}

/** Creates a group over SCIM and returns its representation (asserting the 201). */
export async function createGroup(
  client: TenantClient,
  displayName: string,
  memberIds: string[] = [],
  extra: Json = {},
) {
  const res = await client.post('/Groups', groupBody(displayName, memberIds, extra));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as Json & { id: string; meta: { version: string } };
}

/** Asserts an RFC 7644 §3.12 error answer: SCIM media type, schemas, status string, request id. */
export function expectScimError(res: request.Response, status: number, scimType?: string): void {
  const body = res.body as {
    schemas?: unknown;
    status?: unknown;
    scimType?: unknown;
    detail?: unknown;
  };
  expect(res.status, JSON.stringify(body)).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
  expect(body.schemas).toEqual([ERROR_SCHEMA]);
  expect(body.status).toBe(String(status));
  if (scimType !== undefined) expect(body.scimType).toBe(scimType);
  expect(typeof body.detail).toBe('string');
  const requestId = res.headers['x-request-id'];
  expect(requestId).toBeTruthy();
  expect(body.detail).toContain(requestId);
}

/** Rows of a table in a tenant (nothing-written checks). */
export async function countRows(
  db: Db,
  table: 'users' | 'groups' | 'group_members' | 'audit_events' | 'sessions',
  tenantId: string,
): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select(sql<number>`count(*)::int`.as('n'))
    .where('tenant_id', '=', tenantId)
    .executeTakeFirstOrThrow();
  return row.n;
}

/** The member ids a group has in group_members (users and groups). */
export async function storedMemberIds(
  db: Db,
  tenantId: string,
  groupId: string,
): Promise<string[]> {
  const rows = await db
    .selectFrom('group_members')
    .select('member_id')
    .where('tenant_id', '=', tenantId)
    .where('group_id', '=', groupId)
    .execute();
  return rows.map((r) => r.member_id).sort();
}

/** The stored version of a user or group. */
export async function storedVersion(
  db: Db,
  table: 'users' | 'groups',
  id: string,
): Promise<number | undefined> {
  const row = await db.selectFrom(table).select('version').where('id', '=', id).executeTakeFirst();
  return row?.version;
}

/** A syntactically valid UUID that names nothing. */
export const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
