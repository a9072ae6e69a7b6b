// The one audit event of a refused sign-in (rules 3 and 7), whoever refused it: the protocol
// (a message that does not validate, a replay, an unknown request) or the rules (inactive, ...).
import { recordAudit } from '../audit/audit.repository.js';
import type { ChangeContext } from '../context/actor.js';
import type { Tx } from '../db/transaction.js';
import type { ConnectionKind } from './sign-in.js';

/** The audit target type of each kind of connection (a refusal nobody is named in). */
const CONNECTION_TARGET = { saml: 'saml_idp' } as const satisfies Record<ConnectionKind, string>;

export interface SignInRefusalRecord {
  readonly connection: { readonly id: string; readonly kind: ConnectionKind };
  readonly reason: string;
  readonly detail: string;
  /** The asserted subject, once the rules were asked about it. */
  readonly subject?: string | undefined;
  /** The user the rules refused, if one was found. */
  readonly userId?: string | undefined;
}

/**
 * Writes `sign_in.refused`: target the refused user (else the asserted subject, else the
 * connection); changes `{ reason, detail, idpId, nameId? }`.
 */
export async function recordSignInRefusal(
  tx: Tx,
  tenantId: string,
  context: ChangeContext,
  refusal: SignInRefusalRecord,
): Promise<void> {
  const { connection, subject } = refusal;
  const person = refusal.userId ?? subject;
  await recordAudit(tx, tenantId, context, {
    action: 'sign_in.refused',
    target: person
      ? { type: 'user', id: person }
      : { type: CONNECTION_TARGET[connection.kind], id: connection.id },
    changes: {
      reason: refusal.reason,
      detail: refusal.detail,
      idpId: connection.id,
      ...(subject ? { nameId: subject } : {}),
    },
  });
}
