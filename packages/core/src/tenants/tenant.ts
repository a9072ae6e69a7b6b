import { invalid } from '../errors.js';

/** An organisation's own directory, with its settings. */
export interface Tenant {
  readonly id: string;
  readonly slug: string;
  /** Days a deprovisioned user waits before it is purged (rule 5). */
  readonly gracePeriodDays: number;
  /** Days without sign-in after which an unadopted JIT user is deactivated; null = off (rule 6). */
  readonly cleanupAfterDays: number | null;
  /** Origins a login's `returnTo` may point at (no open redirect). */
  readonly allowedOrigins: readonly string[];
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface TenantSettingsChange {
  readonly gracePeriodDays?: number;
  readonly cleanupAfterDays?: number | null;
  readonly allowedOrigins?: readonly string[];
}

export const TENANT_SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const MAX_GRACE_PERIOD_DAYS = 3650;
export const MAX_ALLOWED_ORIGINS = 50;

export function assertValidSlug(slug: string): void {
  if (!TENANT_SLUG_PATTERN.test(slug)) {
    throw invalid(
      `tenant slug "${slug}" is not valid: use 1 to 63 lowercase letters, digits and hyphens, starting with a letter or digit`,
      { field: 'slug' },
    );
  }
}

/** Checks a settings change and returns it normalised (origins as `scheme://host[:port]`). */
export function normaliseSettingsChange(change: TenantSettingsChange): TenantSettingsChange {
  const out: { -readonly [K in keyof TenantSettingsChange]: TenantSettingsChange[K] } = {};
  if (change.gracePeriodDays !== undefined) {
    const days = change.gracePeriodDays;
    if (!Number.isInteger(days) || days < 0 || days > MAX_GRACE_PERIOD_DAYS) {
      throw invalid(
        `grace period must be a whole number of days from 0 to ${MAX_GRACE_PERIOD_DAYS}`,
        { field: 'gracePeriodDays' },
      );
    }
    out.gracePeriodDays = days;
  }
  if (change.cleanupAfterDays !== undefined) {
    const days = change.cleanupAfterDays;
    if (days !== null && (!Number.isInteger(days) || days < 1 || days > MAX_GRACE_PERIOD_DAYS)) {
      throw invalid(
        `cleanup must be off or a whole number of days from 1 to ${MAX_GRACE_PERIOD_DAYS}`,
        { field: 'cleanupAfterDays' },
      );
    }
    out.cleanupAfterDays = days;
  }
  if (change.allowedOrigins !== undefined) {
    if (change.allowedOrigins.length > MAX_ALLOWED_ORIGINS) {
      throw invalid(`at most ${MAX_ALLOWED_ORIGINS} allowed origins`, { field: 'allowedOrigins' });
    }
    out.allowedOrigins = [...new Set(change.allowedOrigins.map(normaliseOrigin))];
  }
  return out;
}

/** `https://app.example.com` (no path, query, fragment or credentials); anything else is refused. */
export function normaliseOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`allowed origin "${value}" is not a URL`, { field: 'allowedOrigins' });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw invalid(`allowed origin "${value}" must use http or https`, { field: 'allowedOrigins' });
  }
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    throw invalid(
      `allowed origin "${value}" must be just scheme, host and port, like https://app.example.com`,
      {
        field: 'allowedOrigins',
      },
    );
  }
  return url.origin;
}
