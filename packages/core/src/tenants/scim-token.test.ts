import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../audit/audit.repository.js';
import { fixedClock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import type { Db } from '../db/transaction.js';
import { CoreError, type CoreErrorCode } from '../errors.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import {
  authenticateScimToken,
  createScimToken,
  listScimTokens,
  revokeScimToken,
} from './scim-token.js';
import { createTenant } from './tenant.repository.js';
import type { Tenant } from './tenant.js';

const DAY = 86_400_000;
const TOKEN_FORMAT = /^roster_scim_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;
const operator: ChangeContext = {
  actor: { type: 'operator', id: 'alice' },
  requestId: 'req-tokens',
};

let database: TestDatabase;
let db: Db;
let acme: Tenant;
let globex: Tenant;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  acme = await createTenant(db, 'acme', operator);
  globex = await createTenant(db, 'globex', operator);
});
afterAll(async () => {
  await database.close();
});

async function expectCoreError(work: Promise<unknown>, code: CoreErrorCode): Promise<CoreError> {
  const error: unknown = await work.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(CoreError);
  expect((error as CoreError).code).toBe(code);
  return error as CoreError;
}

/** The secret part of an issued token. */
function secretOf(token: string): string {
  const secret = TOKEN_FORMAT.exec(token)?.[2];
  if (!secret) throw new Error(`not a SCIM token: ${token}`);
  return secret;
}

/** The same token with one character of its secret changed (still well formed). */
function withAlteredSecret(token: string): string {
  const last = token.at(-1);
  return `${token.slice(0, -1)}${last === 'A' ? 'B' : 'A'}`;
}

async function tokenCount(): Promise<number> {
  const row = await db
    .selectFrom('scim_tokens')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('createScimToken', () => {
  it('issues a token roster_scim_<id as 32 hex>_<43-char secret> for the tenant', async () => {
    const clock = fixedClock('2026-03-01T10:00:00Z');
    const issued = await createScimToken(
      db,
      'acme',
      { expiresAt: null, description: 'Okta' },
      operator,
      clock,
    );
    const match = TOKEN_FORMAT.exec(issued.token);
    expect(match).not.toBeNull();
    expect(match?.[1]).toBe(issued.id.replaceAll('-', ''));
    expect(issued).toMatchObject({
      tenantId: acme.id,
      description: 'Okta',
      createdAt: new Date('2026-03-01T10:00:00Z'),
      expiresAt: null,
      lastUsedAt: null,
      revokedAt: null,
    });
  });

  it('stores only the SHA-256 of the secret, never the secret itself', async () => {
    const issued = await createScimToken(db, 'acme', { expiresAt: null }, operator, fixedClock());
    const secret = secretOf(issued.token);
    const row = await db
      .selectFrom('scim_tokens')
      .selectAll()
      .where('id', '=', issued.id)
      .executeTakeFirstOrThrow();
    expect(Buffer.from(row.secret_hash).equals(createHash('sha256').update(secret).digest())).toBe(
      true,
    );
    const stored = JSON.stringify(
      Object.values(row).map((value) =>
        Buffer.isBuffer(value) ? value.toString('base64url') : value,
      ),
    );
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(issued.token);
  });

  it('issues different secrets every time', async () => {
    const clock = fixedClock();
    const a = await createScimToken(db, 'acme', { expiresAt: null }, operator, clock);
    const b = await createScimToken(db, 'acme', { expiresAt: null }, operator, clock);
    expect(a.id).not.toBe(b.id);
    expect(secretOf(a.token)).not.toBe(secretOf(b.token));
  });

  it('records a scim_token.created audit event with the actor, request id and expiry', async () => {
    const clock = fixedClock('2026-04-01T00:00:00Z');
    const expiresAt = new Date('2026-07-01T00:00:00Z');
    const issued = await createScimToken(
      db,
      'acme',
      { expiresAt },
      { actor: { type: 'operator', id: 'dave' }, requestId: 'req-c' },
      clock,
    );
    const events = await listAuditEvents(db, acme.id, { targetId: issued.id });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: 'scim_token.created',
      actor: { type: 'operator', id: 'dave' },
      requestId: 'req-c',
      target: { type: 'scim_token', id: issued.id },
      changes: { expiresAt: '2026-07-01T00:00:00.000Z' },
    });
    expect(JSON.stringify(events)).not.toContain(secretOf(issued.token));
  });

  it('accepts an expiry of exactly 3650 days', async () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    const expiresAt = new Date(clock.now().getTime() + 3650 * DAY);
    const issued = await createScimToken(db, 'acme', { expiresAt }, operator, clock);
    expect(issued.expiresAt).toEqual(expiresAt);
  });

  it.each([
    ['in the past', -DAY],
    ['right now', 0],
    ['more than 3650 days away', 3650 * DAY + 1000],
  ])('refuses an expiry %s with Invalid and stores nothing', async (_label, offset) => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    const before = await tokenCount();
    const error = await expectCoreError(
      createScimToken(
        db,
        'acme',
        { expiresAt: new Date(clock.now().getTime() + offset) },
        operator,
        clock,
      ),
      'Invalid',
    );
    expect(error.details).toEqual({ field: 'expiresAt' });
    expect(await tokenCount()).toBe(before);
  });

  it('refuses a description over 200 characters with Invalid', async () => {
    const before = await tokenCount();
    await expectCoreError(
      createScimToken(
        db,
        'acme',
        { expiresAt: null, description: 'x'.repeat(201) },
        operator,
        fixedClock(),
      ),
      'Invalid',
    );
    expect(await tokenCount()).toBe(before);
  });

  it('throws NotFound for an unknown tenant', async () => {
    await expectCoreError(
      createScimToken(db, 'nobody', { expiresAt: null }, operator, fixedClock()),
      'NotFound',
    );
  });
});

describe('listScimTokens', () => {
  it("lists a tenant's tokens oldest first, without their secrets", async () => {
    await createTenant(db, 'lister', operator);
    const clock = fixedClock('2026-05-01T00:00:00Z');
    const first = await createScimToken(
      db,
      'lister',
      { expiresAt: null, description: 'first' },
      operator,
      clock,
    );
    clock.advance(1000);
    const second = await createScimToken(
      db,
      'lister',
      { expiresAt: null, description: 'second' },
      operator,
      clock,
    );
    await createScimToken(db, 'globex', { expiresAt: null }, operator, clock);

    const listed = await listScimTokens(db, 'lister');
    expect(listed.map((t) => t.id)).toEqual([first.id, second.id]);
    for (const token of listed) {
      expect(Object.keys(token).sort()).toEqual([
        'createdAt',
        'description',
        'expiresAt',
        'id',
        'lastUsedAt',
        'revokedAt',
        'tenantId',
      ]);
    }
    const { token: _firstSecret, ...firstListed } = first;
    expect(listed[0]).toEqual(firstListed);
    const serialised = JSON.stringify(listed);
    expect(serialised).not.toContain(secretOf(first.token));
    expect(serialised).not.toContain(secretOf(second.token));
  });

  it('throws NotFound for an unknown tenant', async () => {
    await expectCoreError(listScimTokens(db, 'nobody'), 'NotFound');
  });
});

describe('authenticateScimToken', () => {
  it('accepts a valid token and returns its tenant and token id', async () => {
    const clock = fixedClock();
    const issued = await createScimToken(db, 'acme', { expiresAt: null }, operator, clock);
    const result = await authenticateScimToken(db, 'acme', issued.token, clock);
    expect(result).toEqual({ ok: true, tenant: acme, tokenId: issued.id });
  });

  it('accepts two live tokens of the same tenant at once (rotation)', async () => {
    const clock = fixedClock();
    const oldToken = await createScimToken(db, 'acme', { expiresAt: null }, operator, clock);
    const newToken = await createScimToken(db, 'acme', { expiresAt: null }, operator, clock);
    expect(await authenticateScimToken(db, 'acme', oldToken.token, clock)).toMatchObject({
      ok: true,
      tokenId: oldToken.id,
    });
    expect(await authenticateScimToken(db, 'acme', newToken.token, clock)).toMatchObject({
      ok: true,
      tokenId: newToken.id,
    });
  });

  it("calls another tenant's token unknown, like one that never existed", async () => {
    const clock = fixedClock();
    const issued = await createScimToken(db, 'acme', { expiresAt: null }, operator, clock);
    expect(await authenticateScimToken(db, 'globex', issued.token, clock)).toEqual({
      ok: false,
      reason: 'unknown',
    });
    expect(await authenticateScimToken(db, 'no-such-tenant', issued.token, clock)).toEqual({
      ok: false,
      reason: 'unknown',
    });
  });

  it('calls a token with an altered secret unknown', async () => {
    const clock = fixedClock();
    const issued = await createScimToken(db, 'acme', { expiresAt: null }, operator, clock);
    const altered = withAlteredSecret(issued.token);
    expect(altered).toMatch(TOKEN_FORMAT);
    expect(altered).not.toBe(issued.token);
    expect(await authenticateScimToken(db, 'acme', altered, clock)).toEqual({
      ok: false,
      reason: 'unknown',
    });
  });

  it('calls a well-formed token with an id that does not exist unknown', async () => {
    const clock = fixedClock();
    const issued = await createScimToken(db, 'acme', { expiresAt: null }, operator, clock);
    const otherId = `roster_scim_${'0'.repeat(32)}_${secretOf(issued.token)}`;
    expect(await authenticateScimToken(db, 'acme', otherId, clock)).toEqual({
      ok: false,
      reason: 'unknown',
    });
  });

  it('calls a secret of one token presented with the id of another unknown', async () => {
    const clock = fixedClock();
    const a = await createScimToken(db, 'acme', { expiresAt: null }, operator, clock);
    const b = await createScimToken(db, 'acme', { expiresAt: null }, operator, clock);
    const mixed = `roster_scim_${a.id.replaceAll('-', '')}_${secretOf(b.token)}`;
    expect(await authenticateScimToken(db, 'acme', mixed, clock)).toEqual({
      ok: false,
      reason: 'unknown',
    });
  });

  it.each([
    ['an arbitrary string', 'garbage'],
    ['an empty string', ''],
    [
      'a token with the Bearer prefix left on',
      'Bearer roster_scim_0123456789abcdef0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    ],
    [
      'a token with upper-case hex',
      'roster_scim_0123456789ABCDEF0123456789ABCDEF_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    ],
    ['a token with a short secret', 'roster_scim_0123456789abcdef0123456789abcdef_AAAA'],
    [
      'a token with trailing whitespace',
      'roster_scim_0123456789abcdef0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA ',
    ],
  ])('calls %s malformed', async (_label, presented) => {
    expect(await authenticateScimToken(db, 'acme', presented, fixedClock())).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it('calls a revoked token revoked', async () => {
    const clock = fixedClock();
    const issued = await createScimToken(db, 'acme', { expiresAt: null }, operator, clock);
    await revokeScimToken(db, 'acme', issued.id, operator, clock);
    expect(await authenticateScimToken(db, 'acme', issued.token, clock)).toEqual({
      ok: false,
      reason: 'revoked',
    });
    // a wrong secret for a revoked token reveals nothing about the revocation
    expect(await authenticateScimToken(db, 'acme', withAlteredSecret(issued.token), clock)).toEqual(
      { ok: false, reason: 'unknown' },
    );
  });

  it('calls a token expired from the moment its expiry is reached', async () => {
    const clock = fixedClock('2026-02-01T00:00:00Z');
    const issued = await createScimToken(
      db,
      'acme',
      { expiresAt: new Date('2026-02-02T00:00:00Z') },
      operator,
      clock,
    );
    clock.set('2026-02-01T23:59:59Z');
    expect(await authenticateScimToken(db, 'acme', issued.token, clock)).toMatchObject({
      ok: true,
    });
    clock.set('2026-02-02T00:00:00Z');
    expect(await authenticateScimToken(db, 'acme', issued.token, clock)).toEqual({
      ok: false,
      reason: 'expired',
    });
    clock.advance(DAY);
    expect(await authenticateScimToken(db, 'acme', issued.token, clock)).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it('writes last_used_at on success, then at most once a minute', async () => {
    const clock = fixedClock('2026-06-01T12:00:00Z');
    const issued = await createScimToken(db, 'acme', { expiresAt: null }, operator, clock);
    const lastUsed = async () =>
      (
        await db
          .selectFrom('scim_tokens')
          .select('last_used_at')
          .where('id', '=', issued.id)
          .executeTakeFirstOrThrow()
      ).last_used_at;
    expect(await lastUsed()).toBeNull();

    expect(await authenticateScimToken(db, 'acme', issued.token, clock)).toMatchObject({
      ok: true,
    });
    expect(await lastUsed()).toEqual(new Date('2026-06-01T12:00:00Z'));

    clock.advance(30_000);
    expect(await authenticateScimToken(db, 'acme', issued.token, clock)).toMatchObject({
      ok: true,
    });
    expect(await lastUsed()).toEqual(new Date('2026-06-01T12:00:00Z'));

    clock.advance(31_000); // 61 s after the first use
    expect(await authenticateScimToken(db, 'acme', issued.token, clock)).toMatchObject({
      ok: true,
    });
    expect(await lastUsed()).toEqual(new Date('2026-06-01T12:01:01Z'));

    const listed = (await listScimTokens(db, 'acme')).find((t) => t.id === issued.id);
    expect(listed?.lastUsedAt).toEqual(new Date('2026-06-01T12:01:01Z'));
  });

  it('does not write last_used_at when authentication fails', async () => {
    const clock = fixedClock();
    const issued = await createScimToken(db, 'acme', { expiresAt: null }, operator, clock);
    await authenticateScimToken(db, 'acme', withAlteredSecret(issued.token), clock);
    await authenticateScimToken(db, 'globex', issued.token, clock);
    const row = await db
      .selectFrom('scim_tokens')
      .select('last_used_at')
      .where('id', '=', issued.id)
      .executeTakeFirstOrThrow();
    expect(row.last_used_at).toBeNull();
  });
});

describe('revokeScimToken', () => {
  it('revokes a token at the clock time and records a scim_token.revoked audit event', async () => {
    const clock = fixedClock('2026-08-01T00:00:00Z');
    const issued = await createScimToken(db, 'acme', { expiresAt: null }, operator, clock);
    clock.advance(5000);
    const context: ChangeContext = {
      actor: { type: 'operator', id: 'erin' },
      requestId: 'req-revoke',
    };
    const revoked = await revokeScimToken(db, 'acme', issued.id, context, clock);
    expect(revoked).toMatchObject({
      id: issued.id,
      tenantId: acme.id,
      revokedAt: new Date('2026-08-01T00:00:05Z'),
    });
    expect(revoked).not.toHaveProperty('token');

    const events = await listAuditEvents(db, acme.id, { targetId: issued.id });
    expect(events.map((e) => e.action)).toEqual(['scim_token.created', 'scim_token.revoked']);
    expect(events[1]).toMatchObject({
      actor: { type: 'operator', id: 'erin' },
      requestId: 'req-revoke',
      target: { type: 'scim_token', id: issued.id },
    });
  });

  it('is idempotent: a second revoke keeps the first time and writes no second event', async () => {
    const clock = fixedClock('2026-08-02T00:00:00Z');
    const issued = await createScimToken(db, 'acme', { expiresAt: null }, operator, clock);
    const first = await revokeScimToken(db, 'acme', issued.id, operator, clock);
    clock.advance(60_000);
    const second = await revokeScimToken(db, 'acme', issued.id, operator, clock);
    expect(second).toEqual(first);
    const events = await listAuditEvents(db, acme.id, { targetId: issued.id });
    expect(events.filter((e) => e.action === 'scim_token.revoked')).toHaveLength(1);
  });

  it('leaves the other tokens of the tenant working', async () => {
    const clock = fixedClock();
    const keep = await createScimToken(db, 'acme', { expiresAt: null }, operator, clock);
    const drop = await createScimToken(db, 'acme', { expiresAt: null }, operator, clock);
    await revokeScimToken(db, 'acme', drop.id, operator, clock);
    expect(await authenticateScimToken(db, 'acme', keep.token, clock)).toMatchObject({
      ok: true,
      tokenId: keep.id,
    });
  });

  it('throws NotFound for an id that does not exist or is not an id', async () => {
    const clock = fixedClock();
    await expectCoreError(
      revokeScimToken(db, 'acme', '00000000-0000-4000-8000-000000000000', operator, clock),
      'NotFound',
    );
    await expectCoreError(revokeScimToken(db, 'acme', 'not-an-id', operator, clock), 'NotFound');
    await expectCoreError(
      revokeScimToken(db, 'acme', "'; drop table scim_tokens; --", operator, clock),
      'NotFound',
    );
  });

  // Regression: 36 characters of hex digits and hyphens that are no UUID reached the database
  // and failed there (SQLSTATE 22P02) instead of being NotFound.
  it('throws NotFound for a 36-character id that is not a UUID', async () => {
    const clock = fixedClock();
    await expectCoreError(
      revokeScimToken(db, 'acme', '0123456789abcdef0123456789abcdef0123', operator, clock),
      'NotFound',
    );
    await expectCoreError(revokeScimToken(db, 'acme', '-'.repeat(36), operator, clock), 'NotFound');
  });

  it("throws NotFound for a token of tenant A revoked through tenant B, and A's token keeps working", async () => {
    const clock = fixedClock();
    const issued = await createScimToken(db, 'acme', { expiresAt: null }, operator, clock);
    await expectCoreError(revokeScimToken(db, 'globex', issued.id, operator, clock), 'NotFound');
    const row = await db
      .selectFrom('scim_tokens')
      .select('revoked_at')
      .where('id', '=', issued.id)
      .executeTakeFirstOrThrow();
    expect(row.revoked_at).toBeNull();
    expect(await authenticateScimToken(db, 'acme', issued.token, clock)).toMatchObject({
      ok: true,
    });
    expect(await listAuditEvents(db, globex.id, { targetId: issued.id })).toEqual([]);
  });

  it('throws NotFound for an unknown tenant', async () => {
    const clock = fixedClock();
    const issued = await createScimToken(db, 'acme', { expiresAt: null }, operator, clock);
    await expectCoreError(revokeScimToken(db, 'nobody', issued.id, operator, clock), 'NotFound');
  });
});
