// The app's own sessions, in memory: enough for an example (a restart signs everyone out; several
// instances would keep them in a shared store instead). The browser holds only a random id.
import { randomBytes } from 'node:crypto';

/** How long a signed-in session lasts here, whatever Roster's session does. */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
/** How long a person has to come back from Roster with a code after clicking "Sign in". */
export const PENDING_SIGN_IN_TTL_MS = 10 * 60 * 1000;
/** The most sessions kept at once; beyond it the oldest goes (memory stays bounded). */
export const MAX_SESSIONS = 10_000;

/** What the app keeps between sending the browser to Roster and the callback. */
export interface PendingSignIn {
  readonly codeVerifier: string;
  readonly state: string;
  readonly nonce: string;
}

/** Who signed in, from the ID token. */
export interface SignedInUser {
  readonly sub: string;
  readonly email: string | undefined;
  readonly name: string | undefined;
  readonly groups: readonly string[];
  /** Roster's session id for this sign-in: what a logout token names (Back-Channel Logout §2.4). */
  readonly sid: string | undefined;
  /** Sent back as `id_token_hint` when the person signs out (RP-Initiated Logout §2). */
  readonly idToken: string;
}

export type SessionData = { pending: PendingSignIn } | { user: SignedInUser };

interface Session {
  readonly data: SessionData;
  readonly expiresAt: number;
}

export class SessionStore {
  readonly #sessions = new Map<string, Session>();

  /** Stores the data under a new random id, which the caller puts in the cookie. */
  create(data: SessionData, now = Date.now()): string {
    this.#sweep(now);
    const id = randomBytes(32).toString('base64url');
    const ttl = 'user' in data ? SESSION_TTL_MS : PENDING_SIGN_IN_TTL_MS;
    this.#sessions.set(id, { data, expiresAt: now + ttl });
    return id;
  }

  get(id: string | undefined, now = Date.now()): SessionData | undefined {
    const session = id === undefined ? undefined : this.#sessions.get(id);
    return session && session.expiresAt > now ? session.data : undefined;
  }

  delete(id: string | undefined): void {
    if (id !== undefined) this.#sessions.delete(id);
  }

  /**
   * Ends the sessions a logout token names (Back-Channel Logout 1.0 §2.6): with `sid`, the
   * sessions of that Roster session; with only `sub`, every session of that person.
   */
  endMatching(target: { sid?: string | undefined; sub?: string | undefined }): number {
    let ended = 0;
    for (const [id, { data }] of this.#sessions) {
      if (!('user' in data)) continue;
      const { sid, sub } = data.user;
      if (target.sid !== undefined && target.sid !== sid) continue;
      if (target.sub !== undefined && target.sub !== sub) continue;
      this.#sessions.delete(id);
      ended += 1;
    }
    return ended;
  }

  #sweep(now: number): void {
    for (const [id, session] of this.#sessions)
      if (session.expiresAt <= now) this.#sessions.delete(id);
    // Insertion order is age order: the oldest go first.
    for (const id of this.#sessions.keys()) {
      if (this.#sessions.size < MAX_SESSIONS) break;
      this.#sessions.delete(id);
    }
  }
}
