// node-saml's CacheProvider, one per request. Where Roster starts a message (login, logout) and
// where an IdP answers a logout, the request ids live in core's saml_request_ids, so any instance
// agrees; at the ACS, node-saml only reports which request a response claims to answer, and core
// checks and consumes that request (bound to the browser) inside the sign-in's transaction.
import type { CacheItem, CacheProvider } from '@node-saml/node-saml';
import { lookupSamlRequestId, saveSamlRequestId, type Clock, type Db } from '@roster/core';

export class DatabaseRequestIdCache implements CacheProvider {
  readonly #db: Db;
  readonly #tenantId: string;
  readonly #idpId: string;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  /** Login: the browser's binding hash (undefined: not known). Logout: null. */
  readonly #binding: Buffer | null | undefined;
  readonly #returnTo: string | null;
  /** The returnTo saved with the request that a LogoutResponse answered. */
  answeredReturnTo: string | null = null;

  constructor(options: {
    db: Db;
    tenantId: string;
    idpId: string;
    clock: Clock;
    ttlMs: number;
    binding: Buffer | null | undefined;
    returnTo?: string | null;
  }) {
    this.#db = options.db;
    this.#tenantId = options.tenantId;
    this.#idpId = options.idpId;
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs;
    this.#binding = options.binding;
    this.#returnTo = options.returnTo ?? null;
  }

  async saveAsync(key: string, value: string): Promise<CacheItem | null> {
    if (this.#binding === undefined) return null;
    const now = this.#clock.now();
    const saved = await saveSamlRequestId(
      this.#db,
      this.#tenantId,
      this.#idpId,
      {
        id: key,
        value,
        browserBinding: this.#binding,
        expiresAt: new Date(now.getTime() + this.#ttlMs),
        returnTo: this.#returnTo,
      },
      now,
    );
    return saved ? { value: saved.value, createdAt: saved.createdAt.getTime() } : null;
  }

  /** A LogoutResponse's InResponseTo: one of our LogoutRequests, still waiting. */
  async getAsync(key: string): Promise<string | null> {
    if (this.#binding === undefined) return null;
    const found = await lookupSamlRequestId(
      this.#db,
      this.#tenantId,
      this.#idpId,
      key,
      this.#binding,
      this.#clock.now(),
    );
    if (found.status !== 'pending') return null;
    this.answeredReturnTo = found.returnTo;
    return found.value;
  }

  /** node-saml removes ids only while validating a login response, which this cache never serves. */
  removeAsync(): Promise<string | null> {
    return Promise.resolve(null);
  }
}

/**
 * The ACS's CacheProvider: it remembers the request id node-saml looks up (the Response's
 * InResponseTo, asked only where the connection requires or the response claims an answer) and
 * lets node-saml go on with its other checks. Core consumes that request, bound to the browser,
 * in the sign-in's transaction; what node-saml would have refused for it, core refuses the same.
 */
export class AnsweredRequestRecorder implements CacheProvider {
  /** The request id the response claims to answer, once node-saml asked about it. */
  requestId: string | undefined;

  saveAsync(): Promise<CacheItem | null> {
    return Promise.resolve(null);
  }

  getAsync(key: string): Promise<string | null> {
    this.requestId ??= key;
    // node-saml reads the value as the request's IssueInstant for its own age check; the request's
    // real deadline is checked by core.
    return Promise.resolve(new Date().toISOString());
  }

  removeAsync(key: string | null): Promise<string | null> {
    return Promise.resolve(key);
  }
}
