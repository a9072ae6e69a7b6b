import { describe, expect, it } from 'vitest';
import type { User } from '../users/user.js';
import {
  assertedUserName,
  decideAnsweredRequest,
  decideScimCreate,
  decideScimWrite,
  decideSignIn,
  decideUnsolicited,
  isDormant,
  purgeDate,
  requestAnswerRequirement,
  signInLookups,
  type AnsweredRequestStatus,
  type IdentityProviderPolicy,
  type ProtocolRefusalReason,
} from './reconcile.js';
import {
  identityKey,
  isEntraSoftDeleteRename,
  isTransientNameId,
  NAME_ID_FORMAT,
} from './identity-key.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const DAY = 86_400_000;
let n = 0;
function user(overrides: Partial<User> = {}): User {
  n += 1;
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    tenantId: 't',
    userName: `user${n}@example.com`,
    externalId: null,
    displayName: null,
    givenName: null,
    familyName: null,
    emails: [],
    state: 'active',
    active: true,
    inactiveReason: null,
    source: 'scim',
    managedBy: 'scim',
    adoptedAt: null,
    deprovisionedAt: null,
    purgeAfter: null,
    lastSignInAt: null,
    scimResource: {},
    createdAt: new Date(NOW.getTime() - 100 * DAY),
    updatedAt: NOW,
    version: 1,
    ...overrides,
  };
}
const jit = (o: Partial<User> = {}) => user({ source: 'jit', managedBy: 'jit', ...o });
const deprovisioned = (purgeAfter: Date, o: Partial<User> = {}) =>
  user({ state: 'deprovisioned', active: false, purgeAfter, deprovisionedAt: NOW, ...o });

describe('rule 1 and 5: a SCIM create', () => {
  const cases: [string, Parameters<typeof decideScimCreate>[0], string][] = [
    ['no candidate: a new user', {}, 'create'],
    [
      'a SCIM-managed user with the same userName: 409 uniqueness',
      { byUserName: user() },
      'reject',
    ],
    [
      'a SCIM-managed user with the same externalId: 409 uniqueness',
      { byExternalId: user() },
      'reject',
    ],
    [
      'a deactivated SCIM-managed user with the same userName: still 409',
      { byUserName: user({ state: 'inactive', active: false }) },
      'reject',
    ],
    ['a JIT user with the same userName: adopted', { byUserName: jit() }, 'adopt'],
    [
      'a JIT user whose SAML link NameID is the userName: adopted',
      { byLinkedNameId: [jit()] },
      'adopt',
    ],
    [
      'two different JIT users by SAML link: ambiguous, so a new user',
      { byLinkedNameId: [jit(), jit()] },
      'create',
    ],
    [
      'a SCIM-managed user by SAML link only: not adopted, a new user',
      { byLinkedNameId: [user()] },
      'create',
    ],
    [
      'a deprovisioned user within the grace period: restored',
      { byExternalId: deprovisioned(new Date(NOW.getTime() + DAY)) },
      'restore',
    ],
    [
      'a deprovisioned user past its purge date: replaced',
      { byUserName: deprovisioned(new Date(NOW.getTime() - 1)) },
      'replace_expired',
    ],
  ];
  it.each(cases)('%s', (_name, candidates, kind) => {
    expect(decideScimCreate(candidates, NOW).kind).toBe(kind);
  });

  it('adopts the same id the JIT user had, saying which key matched', () => {
    const existing = jit();
    expect(decideScimCreate({ byUserName: existing }, NOW)).toEqual({
      kind: 'adopt',
      user: existing,
      matchedBy: 'userName',
    });
  });

  it('refuses when externalId and userName point at two different users', () => {
    const byExternalId = user();
    const byUserName = jit();
    expect(decideScimCreate({ byExternalId, byUserName }, NOW)).toMatchObject({
      kind: 'reject',
      reason: 'uniqueness',
      conflictingUserId: byUserName.id,
    });
  });

  it('prefers the externalId match over the userName match when they are the same person', () => {
    const same = jit();
    expect(decideScimCreate({ byExternalId: same, byUserName: same }, NOW)).toMatchObject({
      kind: 'adopt',
      matchedBy: 'externalId',
    });
  });
});

describe('rule 1: the first SCIM write to a JIT user adopts it', () => {
  it.each([
    ['a JIT user: update and adopt', jit(), { kind: 'update', adopt: true }],
    ['a SCIM user: update', user(), { kind: 'update', adopt: false }],
    [
      'a deactivated user: update (SCIM may reactivate it)',
      user({ state: 'inactive', active: false }),
      { kind: 'update', adopt: false },
    ],
    [
      'a deprovisioned user: gone for SCIM',
      deprovisioned(new Date(NOW.getTime() + DAY)),
      { kind: 'not_found' },
    ],
    ['no user', undefined, { kind: 'not_found' }],
  ] as const)('%s', (_name, existing, decision) => {
    expect(decideScimWrite(existing)).toEqual(decision);
  });
});

describe('rules 2 and 3: a SAML sign-in', () => {
  const create: IdentityProviderPolicy = { jitPolicy: 'create', matchBy: 'username' };
  const deny: IdentityProviderPolicy = { jitPolicy: 'deny', matchBy: 'both' };
  const emailOnly: IdentityProviderPolicy = { jitPolicy: 'create', matchBy: 'email' };

  it('finds the user by its (IdP, NameID) link first', () => {
    const linked = user();
    expect(decideSignIn({ linked, byUserName: jit() }, create, false)).toMatchObject({
      kind: 'sign_in',
      user: linked,
      matchedBy: 'samlLink',
      link: false,
      refresh: false,
    });
  });

  it('matches an unlinked person by userName and links them', () => {
    const scimUser = user();
    expect(decideSignIn({ byUserName: scimUser }, create, false)).toMatchObject({
      kind: 'sign_in',
      user: scimUser,
      matchedBy: 'userName',
      link: true,
    });
  });

  it('never links on a transient NameID', () => {
    expect(decideSignIn({ byUserName: user() }, create, true)).toMatchObject({
      kind: 'sign_in',
      link: false,
    });
    expect(decideSignIn({}, create, true)).toEqual({ kind: 'create', link: false });
  });

  it('matches by email only where the IdP allows it', () => {
    const byEmail = [user()];
    expect(decideSignIn({ byEmail }, create, false)).toEqual({ kind: 'create', link: true });
    expect(decideSignIn({ byEmail }, emailOnly, false)).toMatchObject({
      kind: 'sign_in',
      matchedBy: 'email',
    });
    expect(decideSignIn({ byUserName: user() }, emailOnly, false)).toEqual({
      kind: 'create',
      link: true,
    });
  });

  it('refuses when userName and email point at different people', () => {
    expect(decideSignIn({ byUserName: user(), byEmail: [user()] }, deny, false)).toMatchObject({
      kind: 'refuse',
      reason: 'ambiguous_match',
    });
  });

  it('counts one person found by userName and email once', () => {
    const same = user();
    expect(decideSignIn({ byUserName: same, byEmail: [same] }, deny, false)).toMatchObject({
      kind: 'sign_in',
      user: same,
      matchedBy: 'userName',
    });
  });

  it('creates an unknown person under the create policy and refuses them under deny', () => {
    expect(decideSignIn({}, create, false)).toEqual({ kind: 'create', link: true });
    expect(decideSignIn({}, deny, false)).toMatchObject({
      kind: 'refuse',
      reason: 'not_provisioned',
    });
  });

  it('refreshes JIT users from the assertion and never SCIM-managed ones', () => {
    expect(decideSignIn({ linked: jit() }, create, false)).toMatchObject({
      kind: 'sign_in',
      refresh: true,
    });
    expect(
      decideSignIn({ linked: user({ source: 'jit', managedBy: 'scim' }) }, create, false),
    ).toMatchObject({ kind: 'sign_in', refresh: false });
  });

  it('refuses an inactive user, and never reactivates one SCIM deactivated', () => {
    const deactivated = user({ state: 'inactive', active: false, inactiveReason: 'scim' });
    expect(decideSignIn({ linked: deactivated }, create, false)).toMatchObject({
      kind: 'refuse',
      reason: 'inactive',
      user: deactivated,
    });
    expect(
      decideSignIn(
        { byUserName: jit({ state: 'inactive', active: false, inactiveReason: 'dormant' }) },
        create,
        false,
      ),
    ).toMatchObject({
      kind: 'refuse',
      reason: 'inactive',
    });
  });

  it('refuses a deprovisioned user, found by link or by match', () => {
    const gone = deprovisioned(new Date(NOW.getTime() + DAY));
    expect(decideSignIn({ linked: gone }, create, false)).toMatchObject({
      kind: 'refuse',
      reason: 'deprovisioned',
    });
    expect(decideSignIn({ byUserName: gone }, create, false)).toMatchObject({
      kind: 'refuse',
      reason: 'deprovisioned',
    });
  });
});

describe('rule 2: what a sign-in looks up and asserts', () => {
  it.each([
    ['username', { userName: true, email: false }],
    ['email', { userName: false, email: true }],
    ['both', { userName: true, email: true }],
  ] as const)('matchBy %s consults %o besides the link', (matchBy, lookups) => {
    expect(signInLookups({ matchBy })).toEqual(lookups);
  });

  it.each([
    ['no mapped userName: the subject', 'ann@example.com', undefined, 'ann@example.com'],
    ['a blank mapped userName: the subject', 'ann@example.com', '  ', 'ann@example.com'],
    ['a mapped userName, trimmed', 'ann@example.com', ' ann ', 'ann'],
  ])('userName with %s', (_case, subject, mapped, expected) => {
    expect(assertedUserName(subject, mapped)).toBe(expected);
  });
});

describe('rules 2 and 9: the protocol facts of a sign-in', () => {
  it.each([
    [false, 'always'],
    [true, 'ifPresent'],
  ] as const)('IdP-initiated allowed %s: a response must answer a request %s', (allow, req) => {
    expect(requestAnswerRequirement({ allowUnsolicited: allow })).toBe(req);
  });

  it.each([
    ['a solicited response, IdP-initiated off', true, false, undefined],
    ['a solicited response, IdP-initiated on', true, true, undefined],
    ['an unsolicited response, IdP-initiated off', false, false, 'unsolicited'],
    ['an unsolicited response, IdP-initiated on', false, true, undefined],
  ] as const)('%s', (_case, solicited, allowUnsolicited, refusal) => {
    expect(decideUnsolicited(solicited, { allowUnsolicited })).toBe(refusal);
  });

  it.each<[AnsweredRequestStatus, boolean, ProtocolRefusalReason | undefined]>([
    ['pending', false, undefined],
    ['pending', true, undefined],
    ['unknown', false, 'unknown_in_response_to'],
    ['unknown', true, 'replayed'],
    ['expired', true, 'request_expired'],
    ['other_browser', true, 'in_response_to_other_browser'],
    ['no_login_cookie', false, 'no_login_cookie'],
  ])('a request %s (assertion used before: %s) is %s', (status, usedBefore, refusal) => {
    expect(decideAnsweredRequest(status, usedBefore)).toBe(refusal);
  });
});

describe('rule 6: dormant JIT users', () => {
  it.each([
    [
      'a JIT user not seen for 31 days, cleanup after 30',
      jit({ lastSignInAt: new Date(NOW.getTime() - 31 * DAY) }),
      true,
    ],
    [
      'a JIT user seen 29 days ago',
      jit({ lastSignInAt: new Date(NOW.getTime() - 29 * DAY) }),
      false,
    ],
    ['a JIT user never signed in, created 100 days ago', jit(), true],
    ['a JIT user adopted by SCIM', user({ source: 'jit', managedBy: 'scim' }), false],
    ['a SCIM user', user(), false],
    ['an already inactive JIT user', jit({ state: 'inactive', active: false }), false],
  ] as const)('%s: %s', (_name, candidate, dormant) => {
    expect(isDormant(candidate, 30, NOW)).toBe(dormant);
  });

  it('purges after the grace period', () => {
    expect(purgeDate(NOW, 90)).toEqual(new Date('2026-08-30T00:00:00Z'));
  });
});

describe('identity keys', () => {
  it('compare userNames case-insensitively after NFC normalisation', () => {
    expect(identityKey('Ann@Example.COM')).toBe('ann@example.com');
    expect(identityKey('Jose\u0301@example.com')).toBe(identityKey('José@example.com'));
  });

  it('recognise a transient NameID', () => {
    expect(isTransientNameId(NAME_ID_FORMAT.transient)).toBe(true);
    expect(isTransientNameId(NAME_ID_FORMAT.persistent)).toBe(false);
    expect(isTransientNameId(undefined)).toBe(false);
  });

  it("recognise Entra's soft-delete rename of userName", () => {
    expect(
      isEntraSoftDeleteRename('ann@example.com', '5d2e0c3b7f4a4e8e9b1c2d3e4f5a6b7cAnn@example.com'),
    ).toBe(true);
    expect(isEntraSoftDeleteRename('ann@example.com', 'bob@example.com')).toBe(false);
    expect(isEntraSoftDeleteRename('ann@example.com', 'ann@example.com')).toBe(false);
  });
});
