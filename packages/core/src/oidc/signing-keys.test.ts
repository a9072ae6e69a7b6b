import { compactVerify, CompactSign, createLocalJWKSet, importJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../audit/audit.repository.js';
import type { ChangeContext } from '../context/actor.js';
import type { Db } from '../db/transaction.js';
import { CoreError } from '../errors.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import {
  listSigningKeys,
  loadSigningKeys,
  MAX_RETIRED_SIGNING_KEYS,
  publicJwks,
  rotateSigningKeys,
} from './signing-keys.js';

const operator: ChangeContext = { actor: { type: 'operator', id: 'alice' }, requestId: 'req-keys' };
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'];

let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterAll(async () => {
  await database.close();
});

let tenantCount = 0;
const newTenant = async () => (await createTenant(db, `keys-${++tenantCount}`, operator)).id;

/** A JWS signed with a private JWK, as the OpenID Provider signs an ID token. */
async function sign(jwk: JWK, payload: string): Promise<string> {
  const key = await importJWK(jwk, 'RS256');
  return new CompactSign(new TextEncoder().encode(payload))
    .setProtectedHeader({ alg: 'RS256', kid: jwk.kid ?? '' })
    .sign(key);
}

/** Whether a relying party holding this JWKS document accepts the JWS. */
async function verifies(jwks: { keys: JWK[] }, jws: string): Promise<boolean> {
  return compactVerify(jws, createLocalJWKSet(jwks)).then(
    () => true,
    () => false,
  );
}

describe('signing keys', () => {
  it('creates a current and a next RS256 key on first use, and the same ones after', async () => {
    const tenantId = await newTenant();
    const set = await loadSigningKeys(db, tenantId);
    expect(set.keys).toHaveLength(2);
    const [current, next] = set.keys;
    expect(current).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(current?.key_ops).toBeUndefined();
    expect(next).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', key_ops: ['verify'] });
    expect(current?.d).toBeDefined();
    expect(current?.kid).not.toBe(next?.kid);
    // 2048-bit modulus: 256 bytes, 342 base64url characters.
    expect(Buffer.from(current?.n ?? '', 'base64url')).toHaveLength(256);
    expect(await loadSigningKeys(db, tenantId)).toEqual(set);
    expect((await listSigningKeys(db, tenantId)).map((key) => key.status)).toEqual([
      'current',
      'next',
    ]);
  });

  it('agrees on one pair when several first loads race', async () => {
    const tenantId = await newTenant();
    const sets = await Promise.all(Array.from({ length: 6 }, () => loadSigningKeys(db, tenantId)));
    const versions = new Set(sets.map((set) => set.version));
    expect(versions.size).toBe(1);
    const rows = await db
      .selectFrom('oidc_signing_keys')
      .select(['status'])
      .where('tenant_id', '=', tenantId)
      .execute();
    expect(rows.map((row) => row.status).sort()).toEqual(['current', 'next']);
  });

  it('publishes only public parts, with kid, alg and use', async () => {
    const tenantId = await newTenant();
    const set = await loadSigningKeys(db, tenantId);
    const jwks = publicJwks(set);
    expect(jwks.keys.map((key) => key.kid)).toEqual(set.keys.map((key) => key.kid));
    for (const key of jwks.keys) {
      expect(Object.keys(key).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
      for (const member of PRIVATE_MEMBERS) expect(key).not.toHaveProperty(member);
    }
    const listed = await listSigningKeys(db, tenantId);
    expect(listed.map((key) => key.publicJwk)).toEqual(jwks.keys);
    // What the current key signs, the published set verifies.
    const jws = await sign(set.keys[0] as JWK, 'hello');
    expect(await verifies(jwks, jws)).toBe(true);
  });

  it('rotates with overlap: a token of the old key still verifies after a rotation', async () => {
    const tenantId = await newTenant();
    const before = await loadSigningKeys(db, tenantId);
    const [oldCurrent, oldNext] = before.keys.map((key) => key.kid);
    const tokenBefore = await sign(before.keys[0] as JWK, 'signed before');

    const rotated = await rotateSigningKeys(db, tenantId, operator);
    expect(rotated.current).toBe(oldNext);
    expect(rotated.retired).toEqual([oldCurrent]);
    expect([oldCurrent, oldNext]).not.toContain(rotated.next);

    const after = await loadSigningKeys(db, tenantId);
    expect(after.version).not.toBe(before.version);
    expect(after.keys.map((key) => key.kid)).toEqual([rotated.current, rotated.next, oldCurrent]);
    expect(after.keys[0]?.key_ops).toBeUndefined();
    expect(after.keys[2]?.key_ops).toEqual(['verify']);
    // A relying party that fetched the JWKS before the rotation already knows the new signer.
    expect(await verifies(publicJwks(before), await sign(after.keys[0] as JWK, 'new'))).toBe(true);
    expect(await verifies(publicJwks(after), tokenBefore)).toBe(true);

    const audit = await listAuditEvents(db, tenantId);
    expect(audit.at(-1)).toMatchObject({
      action: 'oidc.keys_rotated',
      changes: { current: rotated.current, next: rotated.next, retired: [oldCurrent] },
    });
    expect(JSON.stringify(audit)).not.toContain(`"d":`);
  });

  it(`keeps at most ${MAX_RETIRED_SIGNING_KEYS} retired keys, the newest`, async () => {
    const tenantId = await newTenant();
    const first = (await loadSigningKeys(db, tenantId)).keys[0]?.kid;
    const rotations = [];
    for (let i = 0; i < MAX_RETIRED_SIGNING_KEYS + 2; i++) {
      rotations.push(await rotateSigningKeys(db, tenantId, operator));
    }
    const last = rotations.at(-1);
    expect(last?.retired).toHaveLength(MAX_RETIRED_SIGNING_KEYS);
    expect(last?.retired).toEqual([rotations.at(-2)?.current, rotations.at(-3)?.current]);
    const listed = await listSigningKeys(db, tenantId);
    expect(listed.map((key) => key.status)).toEqual(['current', 'next', 'retired', 'retired']);
    expect(listed.map((key) => key.kid)).not.toContain(first);
  });

  it('serialises concurrent rotations: each one moves the keys one step', async () => {
    const tenantId = await newTenant();
    await loadSigningKeys(db, tenantId);
    const results = await Promise.all([
      rotateSigningKeys(db, tenantId, operator),
      rotateSigningKeys(db, tenantId, operator),
    ]);
    const currents = new Set(results.map((result) => result.current));
    expect(currents.size).toBe(2);
    const listed = await listSigningKeys(db, tenantId);
    expect(listed.map((key) => key.status)).toEqual(['current', 'next', 'retired', 'retired']);
  });

  it('creates the pair first when a tenant rotates before any sign-in', async () => {
    const tenantId = await newTenant();
    const rotated = await rotateSigningKeys(db, tenantId, operator);
    expect(rotated.retired).toHaveLength(1);
    expect((await listSigningKeys(db, tenantId)).map((key) => key.status)).toEqual([
      'current',
      'next',
      'retired',
    ]);
  });

  it('keeps tenants apart and refuses a tenant that does not exist', async () => {
    const a = await loadSigningKeys(db, await newTenant());
    const b = await loadSigningKeys(db, await newTenant());
    expect(a.keys.map((key) => key.kid)).not.toContain(b.keys[0]?.kid);
    const missing = '00000000-0000-4000-8000-000000000000';
    await expect(loadSigningKeys(db, missing)).rejects.toBeInstanceOf(CoreError);
    await expect(rotateSigningKeys(db, missing, operator)).rejects.toMatchObject({
      code: 'NotFound',
    });
  });
});
