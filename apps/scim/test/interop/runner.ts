/**
 * Replays an IdP's request sequence against the SCIM app in-process and checks every answer, then
 * the stored state. A fixture is data (see ./fixtures); this file is the only code that runs it.
 *
 * Every answer is held to RFC 7644 whatever the fixture says: `application/scim+json`, the error
 * body of §3.12, and for each User/Group resource `id`, `meta.resourceType`, `meta.location`, a weak
 * `meta.version` equal to the ETag header (§3.14), `Location` on a 201 (§3.3), no `password`
 * (RFC 7643 §4.1.1, returned "never").
 */
import request from 'supertest';
import { expect } from 'vitest';
import {
  createLogger,
  createScimToken,
  createTenant,
  fixedClock,
  type ChangeContext,
} from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { createLifecycle } from '@roster/http';
import { createScimApp } from '../../src/index.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One request as the IdP sends it, and what the RFC says the answer must be. */
export interface InteropStep {
  readonly name: string;
  /** Where the request's shape comes from: document and section, or a key of the fixture's `sources`. */
  readonly source: string;
  readonly request: {
    readonly method: HttpMethod;
    /** Relative to the tenant's base URL; may carry a query string encoded exactly as the IdP does. */
    readonly path: string;
    /** Encoded with encodeURIComponent and appended to `path`. */
    readonly query?: Readonly<Record<string, string>>;
    /** Sent on top of the fixture's `headers` (Authorization is added by the runner). */
    readonly headers?: Readonly<Record<string, string>>;
    readonly body?: unknown;
  };
  readonly expect: {
    /** Several where the RFC allows either (PATCH: 200 with the resource, or 204). */
    readonly status: number | readonly number[];
    /** Subset the JSON answer must match (toMatchObject); ignored on an empty 204. */
    readonly body?: Readonly<Record<string, unknown>>;
    /** Paths that must hold nothing in the answer (`Resources[*].members`). */
    readonly absent?: readonly string[];
    /** The `value`s of the answer's `members`, in any order. */
    readonly memberValues?: readonly string[];
    readonly headers?: Readonly<Record<string, string>>;
  };
  /** Variables to keep from the answer: name → path (`id`, `Resources.0.id`, `Resources[*].id`). */
  readonly capture?: Readonly<Record<string, string>>;
}

/** A stored user, found by its exact userName; every given field must match. */
export interface ExpectedUser {
  readonly userName: string;
  readonly lifecycleState?: 'active' | 'inactive' | 'deprovisioned';
  readonly active?: boolean;
  readonly externalId?: string | null;
  readonly displayName?: string | null;
  readonly givenName?: string | null;
  readonly familyName?: string | null;
  /** In stored order; each entry a subset. */
  readonly emails?: readonly { value: string; type?: string | null; primary?: boolean }[];
  /** Subset of the stored SCIM representation. */
  readonly scimResource?: Readonly<Record<string, unknown>>;
}

export interface ExpectedGroup {
  readonly displayName: string;
  readonly externalId?: string | null;
  /** The userNames of its user members, in any order. */
  readonly members?: readonly string[];
}

/** What the tenant's tables hold once the sequence is over. */
export interface ExpectedState {
  /** Exactly these users (all lifecycle states), by userName. */
  readonly users?: readonly ExpectedUser[];
  readonly userCount?: number;
  /** Exactly these groups, by displayName. */
  readonly groups?: readonly ExpectedGroup[];
}

export interface InteropSequence {
  readonly name: string;
  /** Users created through POST /Users before the IdP's requests (a directory that is not empty). */
  readonly seedUsers?: number;
  readonly steps: readonly InteropStep[];
  readonly state?: ExpectedState;
  /** Checks across steps that no single answer shows (paging order). */
  readonly verify?: (vars: Readonly<Record<string, unknown>>) => void;
}

export interface IdpFixture {
  readonly idp: string;
  /** Short, a tenant slug prefix. */
  readonly slug: string;
  /** The documents the `source` notes refer to. */
  readonly sources: Readonly<Record<string, string>>;
  /** Sent with every request, as this IdP sends them. */
  readonly headers: Readonly<Record<string, string>>;
  readonly sequences: readonly InteropSequence[];
}

export const BASE_URL = 'https://scim.example.test';
export const SCIM_SCHEMAS = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  enterpriseUser: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  patchOp: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
} as const;

/** A request with no answer after this long fails its step (a hang, not a slow answer). */
const ANSWER_TIMEOUT_MS = 10_000;

const operator: ChangeContext = { actor: { type: 'operator', id: 'interop-test' } };

export interface InteropEnv {
  readonly database: TestDatabase;
  readonly app: ReturnType<typeof createScimApp>;
  readonly clock: ReturnType<typeof fixedClock>;
  readonly close: () => Promise<void>;
}

/** One database and one app for a test file; each sequence gets a tenant of its own. */
export async function createInteropEnv(): Promise<InteropEnv> {
  const database = await createTestDatabase();
  const clock = fixedClock('2026-06-01T00:00:00Z');
  const app = createScimApp({
    database,
    logger: createLogger({ level: 'silent' }),
    clock,
    lifecycle: createLifecycle(),
    baseUrl: BASE_URL,
  });
  return { database, app, clock, close: () => database.close() };
}

let tenantCounter = 0;

/** Runs one sequence in a fresh tenant: steps in order, then the stored state, then `verify`. */
export async function runSequence(
  env: InteropEnv,
  fixture: IdpFixture,
  sequence: InteropSequence,
): Promise<void> {
  tenantCounter += 1;
  const slug = `${fixture.slug}-${tenantCounter}`;
  const tenant = await createTenant(env.database.db, slug, operator);
  const { token } = await createScimToken(
    env.database.db,
    slug,
    { expiresAt: null },
    operator,
    env.clock,
  );
  const base = `${BASE_URL}/scim/v2/${slug}`;
  const vars: Record<string, unknown> = { base, tenant: slug };
  const client: Client = { app: env.app, slug, token, base, headers: fixture.headers };

  for (let i = 0; i < (sequence.seedUsers ?? 0); i += 1) {
    const seed = String(i).padStart(4, '0');
    await runStep(client, vars, sequence.name, {
      name: `seed user ${seed}`,
      source: 'setup: a directory that already holds people',
      request: {
        method: 'POST',
        path: '/Users',
        body: {
          schemas: [SCIM_SCHEMAS.user],
          userName: `seed.${seed}@example.test`,
          externalId: `seed-${seed}`,
          active: true,
        },
      },
      expect: { status: 201 },
    });
  }
  for (const step of sequence.steps) await runStep(client, vars, sequence.name, step);
  if (sequence.state) {
    await assertStoredState(
      env.database,
      tenant.id,
      substitute(sequence.state, vars),
      sequence.name,
    );
  }
  sequence.verify?.(vars);
}

interface Client {
  readonly app: InteropEnv['app'];
  readonly slug: string;
  readonly token: string;
  readonly base: string;
  readonly headers: Readonly<Record<string, string>>;
}

async function runStep(
  client: Client,
  vars: Record<string, unknown>,
  sequenceName: string,
  step: InteropStep,
): Promise<void> {
  const req = substitute(step.request, vars);
  const query = req.query
    ? Object.entries(req.query)
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
        .join('&')
    : '';
  const path = query ? `${req.path}${req.path.includes('?') ? '&' : '?'}${query}` : req.path;
  const url = `/scim/v2/${client.slug}${path}`;
  const sent = `${sequenceName} › ${step.name} [${step.source}]\n${req.method} ${url}`;
  const res = await send(client, req.method, url, { ...client.headers, ...req.headers }, req.body)
    // A hung request fails this step instead of the whole test's timeout.
    .catch((error: unknown) => {
      throw new Error(`no answer: ${sent}\n${String(error)}`);
    });
  const json = parseJson(res.text);
  const context = `${sent}\n→ ${res.status} ${res.text.slice(0, 1500)}`;

  const allowed =
    typeof step.expect.status === 'number' ? [step.expect.status] : step.expect.status;
  expect(allowed, `unexpected status: ${context}`).toContain(res.status);
  assertRfcAnswer(res, json, client.base, context);

  for (const [name, at] of Object.entries(step.capture ?? {})) {
    const value = readPath(json, at);
    expect(value, `nothing to capture as ${name} at "${at}": ${context}`).toBeDefined();
    vars[name] = value;
  }
  const expected = substitute(step.expect, vars);
  if (json !== undefined) {
    if (expected.body) expect(json, context).toMatchObject(expected.body);
    for (const at of expected.absent ?? []) {
      const found = readPath(json, at);
      const values = Array.isArray(found) && at.includes('[*]') ? found : [found];
      expect(
        values.every((v) => v === undefined),
        `"${at}" must not be in the answer: ${context}`,
      ).toBe(true);
    }
    if (expected.memberValues) {
      const members = (readPath(json, 'members') ?? []) as { value?: unknown }[];
      expect(members.map((m) => m.value).sort(), `members: ${context}`).toEqual(
        [...expected.memberValues].sort(),
      );
    }
  }
  for (const [name, value] of Object.entries(expected.headers ?? {})) {
    expect(res.headers[name.toLowerCase()], `header ${name}: ${context}`).toBe(value);
  }
}

async function send(
  client: Client,
  method: HttpMethod,
  url: string,
  headers: Readonly<Record<string, string>>,
  body: unknown,
): Promise<request.Response> {
  const agent = request(client.app);
  const methods = {
    GET: () => agent.get(url),
    POST: () => agent.post(url),
    PUT: () => agent.put(url),
    PATCH: () => agent.patch(url),
    DELETE: () => agent.delete(url),
  } as const;
  let test = methods[method]()
    .timeout({ response: ANSWER_TIMEOUT_MS })
    .set('Authorization', `Bearer ${client.token}`);
  for (const [name, value] of Object.entries(headers)) test = test.set(name, value);
  // A string, so supertest sends the bytes with the IdP's own Content-Type untouched.
  if (body !== undefined) test = test.send(JSON.stringify(body));
  return await test;
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

// --- RFC 7644 checks on every answer -------------------------------------------------------------

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const WEAK_ETAG = /^W\/"[^"]+"$/;

function assertRfcAnswer(
  res: request.Response,
  json: unknown,
  base: string,
  context: string,
): void {
  if (res.status === 204) {
    expect(res.text, `a 204 has no body: ${context}`).toBe('');
    return;
  }
  // RFC 7644 §3.1 and §8.1; Entra E1 "General": every answer is application/scim+json.
  expect(res.headers['content-type'], `Content-Type: ${context}`).toMatch(
    /^application\/scim\+json/,
  );
  expect(isObject(json), `the answer is a JSON object: ${context}`).toBe(true);
  const body = json as Json;
  const schemas = body.schemas;
  expect(Array.isArray(schemas), `schemas: ${context}`).toBe(true);
  if (res.status >= 400) {
    // RFC 7644 §3.12: error schema, status as a string, scimType a string when present.
    expect(schemas, context).toEqual([SCIM_SCHEMAS.error]);
    expect(body.status, `error status is the HTTP status as a string: ${context}`).toBe(
      String(res.status),
    );
    if (body.scimType !== undefined) expect(typeof body.scimType, context).toBe('string');
    return;
  }
  if ((schemas as string[]).includes(SCIM_SCHEMAS.listResponse)) {
    // RFC 7644 §3.4.2: integers, not strings (Okta O1 "Retrieve Users" insists).
    expect(schemas, context).toEqual([SCIM_SCHEMAS.listResponse]);
    expect(Number.isInteger(body.totalResults), `totalResults: ${context}`).toBe(true);
    expect(Number.isInteger(body.startIndex), `startIndex: ${context}`).toBe(true);
    expect(Number.isInteger(body.itemsPerPage), `itemsPerPage: ${context}`).toBe(true);
    const resources = (body.Resources ?? []) as unknown[];
    expect(Array.isArray(resources), `Resources: ${context}`).toBe(true);
    expect(resources.length, `itemsPerPage is the number of Resources: ${context}`).toBe(
      body.itemsPerPage,
    );
    for (const resource of resources) assertResource(resource, base, context);
    return;
  }
  if (isScimResource(body)) {
    assertResource(body, base, context);
    const meta = body.meta as Json;
    // RFC 7644 §3.14: the version travels as the ETag header too.
    expect(res.headers.etag, `ETag header equals meta.version: ${context}`).toBe(meta.version);
    // RFC 7644 §3.3: a created resource's URI is in Location.
    if (res.status === 201) {
      expect(res.headers.location, `Location on 201: ${context}`).toBe(meta.location);
    }
  }
}

function isScimResource(body: Json): boolean {
  const schemas = body.schemas as string[];
  return schemas.includes(SCIM_SCHEMAS.user) || schemas.includes(SCIM_SCHEMAS.group);
}

function assertResource(resource: unknown, base: string, context: string): void {
  expect(isObject(resource), `a resource is an object: ${context}`).toBe(true);
  const r = resource as Json;
  const schemas = r.schemas as string[];
  const type = schemas.includes(SCIM_SCHEMAS.user) ? 'User' : 'Group';
  expect(schemas, `resource schemas: ${context}`).toContain(
    type === 'User' ? SCIM_SCHEMAS.user : SCIM_SCHEMAS.group,
  );
  // Entra E1 "General": `id` is in every resource of every answer.
  expect(typeof r.id === 'string' && r.id.length > 0, `id: ${context}`).toBe(true);
  expect(isObject(r.meta), `meta: ${context}`).toBe(true);
  const meta = r.meta as Json;
  expect(meta.resourceType, `meta.resourceType: ${context}`).toBe(type);
  expect(meta.location, `meta.location: ${context}`).toBe(`${base}/${type}s/${String(r.id)}`);
  expect(meta.version, `meta.version is a weak ETag: ${context}`).toMatch(WEAK_ETAG);
  for (const at of ['created', 'lastModified'] as const) {
    const when = meta[at];
    if (when !== undefined) {
      expect(
        typeof when === 'string' && !Number.isNaN(Date.parse(when)),
        `meta.${at}: ${context}`,
      ).toBe(true);
    }
  }
  expect(r, `password is never returned (RFC 7643 §4.1.1): ${context}`).not.toHaveProperty(
    'password',
  );
}

// --- stored state --------------------------------------------------------------------------------

async function assertStoredState(
  database: TestDatabase,
  tenantId: string,
  state: ExpectedState,
  sequenceName: string,
): Promise<void> {
  const db = database.db;
  const users = await db
    .selectFrom('users')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .orderBy('user_name')
    .execute();
  const emails = await db
    .selectFrom('user_emails')
    .select(['user_id', 'value', 'type', 'is_primary'])
    .where('tenant_id', '=', tenantId)
    .orderBy('user_id')
    .orderBy('position')
    .execute();
  const context = `stored state after "${sequenceName}"`;
  for (const user of users) {
    expect(user.scim_resource, `${context}: no password kept in the resource`).not.toHaveProperty(
      'password',
    );
  }
  if (state.userCount !== undefined)
    expect(users.length, `${context}: users`).toBe(state.userCount);
  if (state.users) {
    expect(users.map((u) => u.user_name).sort(), `${context}: userNames`).toEqual(
      state.users.map((u) => u.userName).sort(),
    );
    for (const want of state.users) {
      const row = users.find((u) => u.user_name === want.userName);
      const got = {
        userName: row?.user_name,
        lifecycleState: row?.lifecycle_state,
        active: row?.active,
        externalId: row?.external_id,
        displayName: row?.display_name,
        givenName: row?.given_name,
        familyName: row?.family_name,
        emails: emails
          .filter((e) => e.user_id === row?.id)
          .map((e) => ({ value: e.value, type: e.type, primary: e.is_primary })),
        scimResource: row?.scim_resource,
      };
      expect(got, `${context}: user ${want.userName}`).toMatchObject(want);
    }
  }
  if (state.groups) {
    const groups = await db
      .selectFrom('groups')
      .select(['id', 'display_name', 'external_id'])
      .where('tenant_id', '=', tenantId)
      .execute();
    const members = await db
      .selectFrom('group_members')
      .innerJoin('users', 'users.id', 'group_members.member_user_id')
      .select(['group_members.group_id', 'users.user_name'])
      .where('group_members.tenant_id', '=', tenantId)
      .execute();
    expect(groups.map((g) => g.display_name).sort(), `${context}: groups`).toEqual(
      state.groups.map((g) => g.displayName).sort(),
    );
    for (const want of state.groups) {
      const row = groups.find((g) => g.display_name === want.displayName);
      if (want.externalId !== undefined) {
        expect(row?.external_id, `${context}: group ${want.displayName} externalId`).toBe(
          want.externalId,
        );
      }
      if (want.members) {
        const names = members.filter((m) => m.group_id === row?.id).map((m) => m.user_name);
        expect(names.sort(), `${context}: members of ${want.displayName}`).toEqual(
          [...want.members].sort(),
        );
      }
    }
  }
}

// --- variables and paths -------------------------------------------------------------------------

const WHOLE_VAR = /^\$\{(\w+)\}$/;
const VAR = /\$\{(\w+)\}/g;

/** Replaces `${name}` in every string; a string that is only `${name}` takes the value itself. */
export function substitute<T>(value: T, vars: Readonly<Record<string, unknown>>): T {
  const lookup = (name: string): unknown => {
    if (!(name in vars)) throw new Error(`fixture uses \${${name}} before it is captured`);
    return vars[name];
  };
  if (typeof value === 'string') {
    const whole = WHOLE_VAR.exec(value);
    if (whole?.[1]) return lookup(whole[1]) as T;
    return value.replace(VAR, (_m, name: string) => String(lookup(name))) as T;
  }
  if (Array.isArray(value)) return value.map((v: unknown) => substitute(v, vars)) as T;
  if (isObject(value) && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, vars)])) as T;
  }
  return value;
}

/** `a.b.0.c`; a segment `x[*]` maps the rest of the path over the array `x`. */
export function readPath(json: unknown, path: string): unknown {
  const [head, ...rest] = path.split('.');
  if (head === undefined || head === '') return json;
  if (head.endsWith('[*]')) {
    const list = readPath(json, head.slice(0, -3));
    return Array.isArray(list) ? list.map((item) => readPath(item, rest.join('.'))) : undefined;
  }
  const next = isObject(json)
    ? json[head]
    : Array.isArray(json)
      ? (json as unknown[])[Number(head)]
      : undefined;
  return rest.length === 0 ? next : readPath(next, rest.join('.'));
}
