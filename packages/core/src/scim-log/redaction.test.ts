import { describe, expect, it } from 'vitest';
import {
  bodyForLog,
  MAX_LOGGED_BODY_BYTES,
  REDACTED,
  redactScimBody,
  redactText,
} from './redaction.js';

const TOKEN = `roster_scim_${'a'.repeat(32)}_${'B'.repeat(43)}`;

describe('redactScimBody', () => {
  it('replaces a password at any depth and in any case, and keeps everything else', () => {
    expect(
      redactScimBody({
        userName: 'ana@example.com',
        password: 'hunter2',
        nested: { deeper: [{ PassWord: 'x' }, { PASSWORD: { value: 'y' } }] },
        'urn:ietf:params:scim:schemas:core:2.0:User:password': 'z',
        passwordless: true,
      }),
    ).toEqual({
      userName: 'ana@example.com',
      password: REDACTED,
      nested: { deeper: [{ PassWord: REDACTED }, { PASSWORD: REDACTED }] },
      'urn:ietf:params:scim:schemas:core:2.0:User:password': REDACTED,
      passwordless: true,
    });
  });

  it('replaces the value of a PATCH operation whose path is the password, in every spelling', () => {
    const patch = {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [
        { op: 'replace', path: 'password', value: 'p1' },
        { op: 'Replace', Path: 'Password', Value: 'p2' },
        { op: 'add', path: 'urn:ietf:params:scim:schemas:core:2.0:User:password', value: 'p3' },
        { op: 'replace', value: { password: 'p4', active: true } },
        { op: 'replace', path: 'displayName', value: 'Ana' },
      ],
    };
    expect(redactScimBody(patch)).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [
        { op: 'replace', path: 'password', value: REDACTED },
        { op: 'Replace', Path: 'Password', Value: REDACTED },
        {
          op: 'add',
          path: 'urn:ietf:params:scim:schemas:core:2.0:User:password',
          value: REDACTED,
        },
        { op: 'replace', value: { password: REDACTED, active: true } },
        { op: 'replace', path: 'displayName', value: 'Ana' },
      ],
    });
    expect(JSON.stringify(redactScimBody(patch))).not.toMatch(/p[1-4]"/);
  });

  it('replaces anything that looks like a Roster SCIM token, inside longer strings too', () => {
    expect(
      redactScimBody({ note: `copied Bearer ${TOKEN} here`, list: [TOKEN], authorization: 'x' }),
    ).toEqual({
      note: `copied Bearer roster_scim_${REDACTED} here`,
      list: [`roster_scim_${REDACTED}`],
      authorization: REDACTED,
    });
    expect(redactText(`/Users?access_token=${TOKEN}&x=1`)).toBe(
      `/Users?access_token=roster_scim_${REDACTED}&x=1`,
    );
  });

  it('leaves numbers, booleans and null alone, and does not change its input', () => {
    const input = { a: 1, b: false, c: null, password: 'p' };
    expect(redactScimBody(input)).toEqual({ a: 1, b: false, c: null, password: REDACTED });
    expect(input.password).toBe('p');
    expect(redactScimBody(42)).toBe(42);
  });
});

describe('bodyForLog', () => {
  it('keeps a small body as it is (redacted), and no body as null', () => {
    expect(bodyForLog({ password: 'p', a: 1 })).toEqual({ password: REDACTED, a: 1 });
    expect(bodyForLog(undefined)).toBeNull();
    expect(bodyForLog(null)).toBeNull();
  });

  it('stores a body above the cap as a truncated marker with its size and first bytes', () => {
    const big = { password: 'secret', blob: 'x'.repeat(MAX_LOGGED_BODY_BYTES) };
    const stored = bodyForLog(big) as {
      'roster:truncated': boolean;
      bytes: number;
      preview: string;
    };
    expect(stored['roster:truncated']).toBe(true);
    expect(stored.bytes).toBeGreaterThan(MAX_LOGGED_BODY_BYTES);
    expect(Buffer.byteLength(stored.preview)).toBeLessThanOrEqual(MAX_LOGGED_BODY_BYTES);
    expect(stored.preview.startsWith(`{"password":"${REDACTED}","blob":"xxx`)).toBe(true);
    expect(stored.preview).not.toContain('secret');
  });
});
