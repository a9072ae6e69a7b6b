// The SCIM app's configuration in every bench: what the server runs with by default
// (SCIM_LOG_RETENTION_DAYS=7: every request kept in the tenant's request log; the per-tenant
// rate limiter on), so that each request pays what it pays in production. The limiter's
// allowance is raised far above any rate reached here: its cost per request is measured, its
// refusals (429) never happen.
export const BENCH_SCIM_CONFIG = Object.freeze({
  scimLogRetentionDays: 7,
  scimRateLimit: Object.freeze({ perSecond: 1_000_000, burst: 1_000_000 }),
});
