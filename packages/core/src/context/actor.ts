import type { ActorType } from '../db/database.js';

/** Who asked for a change: recorded on every audit event (rule 7). */
export interface Actor {
  readonly type: ActorType;
  /** The SCIM token id, IdP id or operator name; absent for the system. */
  readonly id?: string;
}

/** What every changing call carries for the audit trail. */
export interface ChangeContext {
  readonly actor: Actor;
  /** The request id of the HTTP request (or job run) that caused the change. */
  readonly requestId?: string;
}

export const SYSTEM: Actor = Object.freeze({ type: 'system' });
