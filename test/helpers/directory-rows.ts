// What "not half-applied" means for a user, checked straight in the database: a user row always comes with its email rows, an audit event and a change-outbox entry,
// because all of them are written in the one transaction that creates the user.
import { expect } from 'vitest';
import type { Db } from '@roster/core';

/** Asserts every listed user has its emails, at least one audit event and one outbox entry. */
export async function checkNothingHalfApplied(
  db: Db,
  users: readonly { id: string; user_name: string }[],
): Promise<void> {
  if (users.length === 0) return;
  const ids = users.map((u) => u.id);
  const [emails, audits, outbox] = await Promise.all([
    db.selectFrom('user_emails').select(['user_id', 'value']).where('user_id', 'in', ids).execute(),
    db.selectFrom('audit_events').select('target_id').where('target_id', 'in', ids).execute(),
    db
      .selectFrom('change_outbox')
      .select('entity_id')
      .where('entity_type', '=', 'user')
      .where('entity_id', 'in', ids)
      .execute(),
  ]);
  const emailsOf = new Map<string, string[]>();
  for (const e of emails) emailsOf.set(e.user_id, [...(emailsOf.get(e.user_id) ?? []), e.value]);
  const audited = new Set(audits.map((a) => a.target_id));
  const announced = new Set(outbox.map((o) => o.entity_id));
  const partial = users
    .map((u) => ({
      userName: u.user_name,
      emails: emailsOf.get(u.id)?.includes(u.user_name) ?? false,
      audit: audited.has(u.id),
      outbox: announced.has(u.id),
    }))
    .filter((u) => !u.emails || !u.audit || !u.outbox);
  expect(partial, 'users missing some of their rows').toEqual([]);
}
