import { describe, expect, it } from 'vitest';
import type { User } from '../users/user.js';
import {
  assertedUserName,
  decideAnsweredRequest,
  decideJitGroupSync,
  decideOperatorDeactivation,
  decideOperatorRestore,
  decideScimCreate,
  decideScimWrite,
  decideSignIn,
  decideUnsolicited,
  dormantState,
  endsSessions,
  groupManagerAfterScimWrite,
  isDormant,
  isEntraSoftDelete,
  isPurgeDue,
  jitGroupNames,
  linkedNameIdsToSearch,
  purgeDate,
  requestAnswerRequirement,
  scimCreateEvent,
  scimWriteAction,
  signInLookups,
  signInWrites,
  stateFor,
  stateOnAdopt,
  stateOnCreate,
  stateOnRestore,
  stateOnScimDelete,
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

describe('rule 1, groups: a SCIM write to a group', () => {
  it.each([
    ['adopts a JIT group', 'jit', { managedBy: 'scim', adopted: true }],
    ['keeps a SCIM group SCIM-managed', 'scim', { managedBy: 'scim', adopted: false }],
  ] as const)('%s', (_name, managedBy, decision) => {
    expect(groupManagerAfterScimWrite({ managedBy })).toEqual(decision);
  });
});

describe('rules 2 and 7: what an admitted sign-in writes', () => {
  it.each([
    ['a JIT creation', { kind: 'create', link: true }, 'user.created', true],
    [
      'a refreshed JIT user',
      { kind: 'sign_in', user: jit(), matchedBy: 'samlLink', link: false, refresh: true },
      'user.refreshed_by_sign_in',
      true,
    ],
    [
      'a SCIM-managed user',
      { kind: 'sign_in', user: user(), matchedBy: 'userName', link: true, refresh: false },
      'user.signed_in',
      false,
    ],
  ] as const)('%s', (_name, decision, action, syncJitGroups) => {
    expect(signInWrites(decision)).toEqual({ action, syncJitGroups });
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

const ACTIVE = {
  lifecycle: 'active',
  inactiveReason: null,
  purgeAfter: null,
  deprovisionedAt: null,
};
const inactive = (reason: string, purgeAfter: Date | null = null) => ({
  lifecycle: 'inactive',
  inactiveReason: reason,
  purgeAfter,
  deprovisionedAt: null,
});
const scimDeactivated = (o: Partial<User> = {}) =>
  user({ state: 'inactive', active: false, inactiveReason: 'scim', ...o });

describe('rule 1: the linked NameIDs a SCIM create looks up', () => {
  it.each([
    ['userName only', { userName: 'ann@x' }, {}, ['ann@x']],
    [
      'userName and the primary email',
      {
        userName: 'ann',
        emails: [{ value: 'other@x' }, { value: 'ann@x', primary: true }],
      },
      {},
      ['ann', 'ann@x'],
    ],
    [
      'no primary email: the first one',
      { userName: 'ann', emails: [{ value: 'a@x' }] },
      {},
      ['ann', 'a@x'],
    ],
    ['the userName found someone: none', { userName: 'ann@x' }, { byUserName: user() }, []],
    ['the externalId found someone: none', { userName: 'ann@x' }, { byExternalId: user() }, []],
  ] as const)('%s', (_name, attributes, found, nameIds) => {
    expect(linkedNameIdsToSearch(attributes, found)).toEqual(nameIds);
  });
});

describe('rules 1 and 2: the state of a new user', () => {
  it.each([
    ['SCIM, active absent: active', undefined, 'scim', ACTIVE],
    ['SCIM, active:true: active', true, 'scim', ACTIVE],
    ['SCIM, active:false: inactive by SCIM', false, 'scim', inactive('scim')],
    ['JIT: active', true, 'jit', ACTIVE],
  ] as const)('%s', (_name, active, source, state) => {
    expect(stateOnCreate(active, source)).toEqual(state);
  });
});

describe("rule 3: the state change SCIM's active asks", () => {
  it.each([
    ['active absent: unchanged', undefined, user(), undefined],
    ['active:true on an active user: unchanged', true, user(), undefined],
    ['active:false on an active user: inactive by SCIM', false, user(), inactive('scim')],
    ['active:false on a user SCIM deactivated: unchanged', false, scimDeactivated(), undefined],
    [
      'active:false on a dormant user: inactive by SCIM',
      false,
      jit({ state: 'inactive', active: false, inactiveReason: 'dormant' }),
      inactive('scim'),
    ],
    ['active:true on a user SCIM deactivated: active', true, scimDeactivated(), ACTIVE],
    ['active absent on an inactive user: unchanged', undefined, scimDeactivated(), undefined],
  ] as const)('%s', (_name, active, current, state) => {
    expect(stateFor(active, current)).toEqual(state);
  });
});

describe('rule 1: the state of an adopted JIT user', () => {
  it.each([
    ['active absent: active (unchanged for an active user)', undefined, jit(), undefined],
    [
      'active absent on a dormant user: active',
      undefined,
      jit({ state: 'inactive', active: false, inactiveReason: 'dormant' }),
      ACTIVE,
    ],
    ['active:false: inactive by SCIM', false, jit(), inactive('scim')],
    ['active:true: unchanged for an active user', true, jit(), undefined],
  ] as const)('%s', (_name, active, current, state) => {
    expect(stateOnAdopt(active, current)).toEqual(state);
  });
});

describe('rule 5: the state of a restored user', () => {
  it.each([
    ['active absent: active', undefined, ACTIVE],
    ['active:true: active', true, ACTIVE],
    ['active:false: inactive by SCIM', false, inactive('scim')],
  ] as const)('%s', (_name, active, state) => {
    expect(stateOnRestore(active)).toEqual(state);
  });
});

describe('rule 5: the state of a user SCIM deletes', () => {
  it.each([
    ['grace period 90 days', 90, new Date('2026-08-30T00:00:00Z')],
    ['grace period 0 days: due at once', 0, NOW],
  ] as const)('%s', (_name, graceDays, purgeAfter) => {
    expect(stateOnScimDelete(NOW, graceDays)).toEqual({
      lifecycle: 'deprovisioned',
      inactiveReason: 'scim_delete',
      purgeAfter,
      deprovisionedAt: NOW,
    });
  });
});

describe('rule 6: the state of a dormant user', () => {
  it.each([
    ['grace period 10 days', 10, new Date('2026-06-11T00:00:00Z')],
    ['grace period 90 days', 90, new Date('2026-08-30T00:00:00Z')],
  ] as const)('%s', (_name, graceDays, purgeAfter) => {
    expect(dormantState(NOW, graceDays)).toEqual(inactive('dormant', purgeAfter));
  });
});

describe('rule 4: a write that takes a user out ends its sessions', () => {
  it.each([
    ['active to inactive', 'active', 'inactive', true],
    ['active to deprovisioned', 'active', 'deprovisioned', true],
    ['active to active', 'active', 'active', false],
    ['inactive to inactive', 'inactive', 'inactive', false],
    ['inactive to active', 'inactive', 'active', false],
  ] as const)('%s: %s', (_name, before, after, ends) => {
    expect(endsSessions({ state: before }, { state: after })).toBe(ends);
  });
});

describe('rule 7: the event a SCIM create records', () => {
  it.each([
    ['create', { action: 'user.created', outcome: 'created' }],
    ['replace_expired', { action: 'user.created', outcome: 'created' }],
    ['adopt', { action: 'user.adopted', outcome: 'adopted' }],
    ['restore', { action: 'user.restored', outcome: 'restored' }],
  ] as const)('%s', (kind, event) => {
    expect(scimCreateEvent(kind)).toEqual(event);
  });
});

describe('rule 7: the event a SCIM PUT or PATCH records', () => {
  it.each([
    ['an attribute change', 'active', 'active', false, 'user.replaced'],
    ['a deactivation', 'active', 'inactive', false, 'user.deactivated'],
    ['a reactivation', 'inactive', 'active', false, 'user.reactivated'],
    ['an inactive user stays inactive', 'inactive', 'inactive', false, 'user.replaced'],
    ['the first write to a JIT user', 'active', 'active', true, 'user.adopted'],
    ['the first write to a JIT user, deactivating it', 'active', 'inactive', true, 'user.adopted'],
  ] as const)('%s', (_name, before, after, adopted, action) => {
    expect(scimWriteAction({ state: before }, { state: after }, adopted)).toBe(action);
  });
});

describe("rule 1: Entra's soft delete is the same person", () => {
  it.each([
    ['<objectId><UPN>', 'ann@example.com', '5d2e0c3b7f4a4e8e9b1c2d3e4f5a6b7cAnn@example.com', true],
    ['another person', 'ann@example.com', 'bob@example.com', false],
    ['no rename', 'ann@example.com', 'ann@example.com', false],
    ['a prefix too short', 'ann@example.com', '5d2e0c3bAnn@example.com', false],
  ] as const)('%s', (_name, before, after, softDelete) => {
    expect(isEntraSoftDelete({ userName: before }, { userName: after })).toBe(softDelete);
  });
});

describe('rules 5 and 6: purge eligibility', () => {
  it.each([
    ['deprovisioned, purge date passed', deprovisioned(new Date(NOW.getTime() - 1)), true],
    ['deprovisioned, purge date now', deprovisioned(NOW), true],
    ['deprovisioned, purge date ahead', deprovisioned(new Date(NOW.getTime() + 1)), false],
    [
      'dormant, purge date passed',
      jit({ state: 'inactive', active: false, purgeAfter: new Date(NOW.getTime() - DAY) }),
      true,
    ],
    ['inactive without a purge date', scimDeactivated(), false],
    ['active (never has a purge date)', user(), false],
    [
      'active with a stray past purge date',
      user({ purgeAfter: new Date(NOW.getTime() - DAY) }),
      false,
    ],
  ] as const)('%s', (_name, candidate, due) => {
    expect(isPurgeDue(candidate, NOW)).toBe(due);
  });
});

describe('operator: deactivate', () => {
  it.each([
    [
      'an active user: inactive by the operator',
      user(),
      { kind: 'change', state: inactive('operator') },
    ],
    ['an inactive user: unchanged', scimDeactivated(), { kind: 'unchanged' }],
    [
      'a deprovisioned user: unchanged',
      deprovisioned(new Date(NOW.getTime() + DAY)),
      { kind: 'unchanged' },
    ],
  ] as const)('%s', (_name, candidate, decision) => {
    expect(decideOperatorDeactivation(candidate)).toEqual(decision);
  });
});

describe('operator: restore (rule 5)', () => {
  it.each([
    ['an active user: unchanged', user(), 'unchanged'],
    [
      'deprovisioned, within the grace period: active',
      deprovisioned(new Date(NOW.getTime() + DAY)),
      'change',
    ],
    ['deprovisioned, purge date reached: refused', deprovisioned(NOW), 'refuse'],
    [
      'dormant without a purge date: active',
      jit({ state: 'inactive', active: false, inactiveReason: 'dormant' }),
      'change',
    ],
  ] as const)('%s', (_name, candidate, kind) => {
    const decision = decideOperatorRestore(candidate, NOW);
    expect(decision.kind).toBe(kind);
    if (decision.kind === 'change') expect(decision.state).toEqual(ACTIVE);
  });
});

describe('rule 2: the group names an assertion asserts', () => {
  it.each([
    ['none', [], []],
    ['trimmed, blank ones dropped', [' Eng ', '', '  '], ['Eng']],
    ['one per name, the first spelling wins', ['Eng', 'ENG', 'eng', 'Ops'], ['Eng', 'Ops']],
  ] as const)('%s', (_name, asserted, names) => {
    expect(jitGroupNames(asserted)).toEqual(names);
  });
});

describe("rule 2: a JIT user's JIT groups follow the assertion", () => {
  const eng = { groupId: 'g-eng', displayName: 'Eng' };
  const ops = { groupId: 'g-ops', displayName: 'Ops' };
  it.each([
    ['no groups, none asserted', [], [], [], { create: [], join: [], leave: [] }],
    [
      'new groups: created and joined',
      [],
      [],
      ['Eng'],
      { create: ['Eng'], join: ['Eng'], leave: [] },
    ],
    [
      'an existing group: joined, not created',
      [],
      [{ displayName: 'ENG' }],
      ['Eng'],
      { create: [], join: ['Eng'], leave: [] },
    ],
    [
      'already a member (another spelling): nothing',
      [eng],
      [{ displayName: 'Eng' }],
      ['eng'],
      { create: [], join: [], leave: [] },
    ],
    [
      'a group no longer asserted: left',
      [eng, ops],
      [{ displayName: 'Eng' }],
      ['Eng'],
      { create: [], join: [], leave: ['g-ops'] },
    ],
    [
      'none asserted: every JIT group left',
      [eng, ops],
      [],
      [],
      { create: [], join: [], leave: ['g-eng', 'g-ops'] },
    ],
    [
      'one left, one joined, one created',
      [ops],
      [{ displayName: 'Eng' }],
      ['Eng', 'Sales', ' '],
      { create: ['Sales'], join: ['Eng', 'Sales'], leave: ['g-ops'] },
    ],
  ] as const)('%s', (_name, current, existing, asserted, sync) => {
    expect(decideJitGroupSync(current, existing, asserted)).toEqual(sync);
  });
});
