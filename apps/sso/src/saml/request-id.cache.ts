// node-saml's CacheProvider over the database (core's saml_request_ids), one per request: it
// knows the tenant, the IdP and the browser, so an InResponseTo is accepted only from the
// browser that started that login, on any instance.
import type { CacheItem, CacheProvider } from '@node-saml/node-saml';
import {
  lookupSamlRequestId,
  removeSamlRequestId,
  saveSamlRequestId,
  type Clock,
  type Db,
} from '@roster/core';

/** Why the last lookup found nothing, for the refusal's reason. */
export type RequestIdMiss = 'unknown' | 'expired' | 'other_browser' | 'no_login_cookie';

export class DatabaseRequestIdCache implements CacheProvider {
  readonly #db: Db;
  readonly #tenantId: string;
  readonly #idpId: string;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  /** Login: the browser's binding hash (undefined: the browser has no pre-login cookie). Logout: null. */
  readonly #binding: Buffer | null | undefined;
  readonly #returnTo: string | null;
  lastMiss: RequestIdMiss | undefined;
  /** The returnTo saved with the request that a response answered. */
  answeredReturnTo: string | null = null;
  /** node-saml asks for the same id twice per response (Response and SubjectConfirmationData). */
  #answered: { key: string; value: string } | undefined;

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

  async getAsync(key: string): Promise<string | null> {
    if (this.#answered?.key === key) return this.#answered.value;
    if (this.#binding === undefined) {
      this.lastMiss = 'no_login_cookie';
      return null;
    }
    const found = await lookupSamlRequestId(
      this.#db,
      this.#tenantId,
      this.#idpId,
      key,
      this.#binding,
      this.#clock.now(),
    );
    if (found.status !== 'pending') {
      this.lastMiss = found.status;
      return null;
    }
    this.answeredReturnTo = found.returnTo;
    this.#answered = { key, value: found.value };
    return found.value;
  }

  async removeAsync(key: string | null): Promise<string | null> {
    if (key === null || this.#binding === undefined) return null;
    if (this.#answered?.key === key) this.#answered = undefined;
    const removed = await removeSamlRequestId(
      this.#db,
      this.#tenantId,
      this.#idpId,
      key,
      this.#binding,
    );
    return removed ? key : null;
  }
}
